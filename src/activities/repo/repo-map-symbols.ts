/**
 * Languages by file extension and top-level symbols by regular expression, for the repository map
 * the Boss plans from (repo-map.ts). Deliberately shallow: a plan needs to know that `limiter.go`
 * has `func Allow` and `type Limiter`, not a parse tree, and a regex per language is bounded,
 * dependency-free and cannot execute anything from the repository.
 */

/** Language of a path by its extension (or name), or undefined when not source or docs we know. */
export function languageOf(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'Makefile' || name === 'makefile' || name === 'GNUmakefile') return 'Makefile';
  if (name === 'Dockerfile') return 'Dockerfile';
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return EXTENSIONS[name.slice(dot + 1).toLowerCase()];
}

const EXTENSIONS: Record<string, string> = {
  go: 'Go',
  py: 'Python',
  pyi: 'Python',
  js: 'JavaScript',
  mjs: 'JavaScript',
  cjs: 'JavaScript',
  jsx: 'JavaScript',
  ts: 'TypeScript',
  mts: 'TypeScript',
  cts: 'TypeScript',
  tsx: 'TypeScript',
  rs: 'Rust',
  java: 'Java',
  kt: 'Kotlin',
  rb: 'Ruby',
  php: 'PHP',
  c: 'C',
  h: 'C',
  cc: 'C++',
  cpp: 'C++',
  hpp: 'C++',
  cs: 'C#',
  swift: 'Swift',
  sh: 'Shell',
  bash: 'Shell',
  md: 'Markdown',
  rst: 'reStructuredText',
  txt: 'Text',
  json: 'JSON',
  yaml: 'YAML',
  yml: 'YAML',
  toml: 'TOML',
  html: 'HTML',
  css: 'CSS',
  sql: 'SQL',
  proto: 'Protobuf',
};

/** Per language: patterns whose groups are (kind, name) of a top-level declaration. */
const PATTERNS: Record<string, { re: RegExp; kind?: string }[]> = {
  Go: [
    { re: /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/gm, kind: 'func' },
    { re: /^type\s+([A-Za-z_]\w*)/gm, kind: 'type' },
  ],
  Python: [
    { re: /^def\s+([A-Za-z_]\w*)/gm, kind: 'def' },
    { re: /^async\s+def\s+([A-Za-z_]\w*)/gm, kind: 'def' },
    { re: /^class\s+([A-Za-z_]\w*)/gm, kind: 'class' },
  ],
  JavaScript: [
    { re: /^export\s+(?:default\s+)?(?:async\s+)?function\*?\s+([A-Za-z_$][\w$]*)/gm, kind: 'function' },
    { re: /^export\s+(?:default\s+)?class\s+([A-Za-z_$][\w$]*)/gm, kind: 'class' },
    { re: /^export\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)/gm, kind: 'const' },
    { re: /^(?:async\s+)?function\*?\s+([A-Za-z_$][\w$]*)/gm, kind: 'function' },
    { re: /^module\.exports\.([A-Za-z_$][\w$]*)\s*=/gm, kind: 'export' },
  ],
  TypeScript: [
    { re: /^export\s+(?:default\s+)?(?:async\s+)?function\*?\s+([A-Za-z_$][\w$]*)/gm, kind: 'function' },
    { re: /^export\s+(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/gm, kind: 'class' },
    { re: /^export\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)/gm, kind: 'const' },
    { re: /^export\s+(?:interface|type)\s+([A-Za-z_$][\w$]*)/gm, kind: 'type' },
  ],
  Rust: [
    { re: /^(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+([A-Za-z_]\w*)/gm, kind: 'fn' },
    { re: /^(?:pub(?:\([^)]*\))?\s+)?struct\s+([A-Za-z_]\w*)/gm, kind: 'struct' },
    { re: /^(?:pub(?:\([^)]*\))?\s+)?enum\s+([A-Za-z_]\w*)/gm, kind: 'enum' },
    { re: /^(?:pub(?:\([^)]*\))?\s+)?trait\s+([A-Za-z_]\w*)/gm, kind: 'trait' },
  ],
  Java: [
    { re: /^public\s+(?:final\s+|abstract\s+)*(?:class|interface|enum|record)\s+([A-Za-z_]\w*)/gm, kind: 'class' },
  ],
  Ruby: [
    { re: /^class\s+([A-Z]\w*(?:::\w+)*)/gm, kind: 'class' },
    { re: /^module\s+([A-Z]\w*(?:::\w+)*)/gm, kind: 'module' },
    { re: /^def\s+([A-Za-z_][\w.]*[?!]?)/gm, kind: 'def' },
  ],
};

/** Whether symbols are looked for in files of this language. */
export function hasSymbols(language: string | undefined): boolean {
  return language !== undefined && PATTERNS[language] !== undefined;
}

/**
 * Top-level symbols of a source text, in file order, as `kind name` (e.g. `func Allow`): at most
 * `max`, each name at most 60 characters, read from the first `maxChars` characters.
 */
export function symbolsOf(language: string, text: string, max = 8, maxChars = 100_000): string[] {
  const src = text.slice(0, maxChars);
  const found: { at: number; label: string }[] = [];
  for (const { re, kind } of PATTERNS[language] ?? []) {
    re.lastIndex = 0;
    for (let m = re.exec(src); m; m = re.exec(src)) {
      const name = (m[1] ?? '').slice(0, 60);
      if (name) found.push({ at: m.index, label: `${kind} ${name}` });
      if (found.length > max * 8) break;
    }
  }
  const seen = new Set<string>();
  return found
    .sort((a, b) => a.at - b.at)
    .map((f) => f.label)
    .filter((l) => !seen.has(l) && seen.add(l))
    .slice(0, max);
}
