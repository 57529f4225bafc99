/**
 * Small edits of GBNF grammar text (llama.cpp's grammar format), so that grammars node-llama-cpp
 * builds from JSON schemas can be combined into one: every rule of a part gets a prefix (two
 * JSON grammars both define `root`, `rule0`, `string-rule`, ...), the part's trailing blank lines
 * (node-llama-cpp's stop trigger for a lone JSON grammar) are dropped, and optional whitespace
 * is cut to one space at most (a tiny model otherwise spends its tokens indenting).
 */

/** The rule names a grammar defines. */
function ruleNames(gbnf: string): Set<string> {
  return new Set([...gbnf.matchAll(/^\s*([A-Za-z0-9_-]+)\s*::=/gm)].map((m) => m[1]!));
}

/**
 * The grammar with `prefix` before each of its rule names, where defined and where used;
 * string literals, character classes and comments are left as they are.
 */
export function prefixRules(gbnf: string, prefix: string): string {
  const names = ruleNames(gbnf);
  let out = '';
  let i = 0;
  while (i < gbnf.length) {
    const c = gbnf[i]!;
    if (c === '"' || c === '[') {
      const close = c === '"' ? '"' : ']';
      let j = i + 1;
      while (j < gbnf.length && gbnf[j] !== close) j += gbnf[j] === '\\' ? 2 : 1;
      out += gbnf.slice(i, j + 1);
      i = j + 1;
    } else if (c === '#') {
      const j = gbnf.indexOf('\n', i);
      const end = j < 0 ? gbnf.length : j;
      out += gbnf.slice(i, end);
      i = end;
    } else if (c === '{') {
      // A repetition count like {0,15}: digits that are no rule names.
      const j = gbnf.indexOf('}', i);
      const end = j < 0 ? gbnf.length : j + 1;
      out += gbnf.slice(i, end);
      i = end;
    } else if (/[A-Za-z0-9_-]/.test(c)) {
      let j = i;
      while (j < gbnf.length && /[A-Za-z0-9_-]/.test(gbnf[j]!)) j++;
      const word = gbnf.slice(i, j);
      out += names.has(word) ? `${prefix}${word}` : word;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * A grammar made into a part of another: rules prefixed (its start rule becomes `<prefix>root`),
 * the trailing `"\n\n\n\n" [\n]*` of its root dropped, and node-llama-cpp's optional-whitespace
 * rules cut to `[ ]?`.
 */
export function asPart(gbnf: string, prefix: string): string {
  return prefixRules(gbnf, prefix)
    .replace(/^(\S*root\s*::=.*?) "\\n\\n\\n\\n" \[\\n\]\*$/m, '$1')
    .replace(/^(\S*whitespace-b-[\w-]*rule) ::= .*$/gm, (_, name: string) =>
      name.includes('comma-whitespace-b-') ? `${name} ::= "," [ ]?` : `${name} ::= [ ]?`,
    );
}
