/**
 * The languages the simulated agent can edit in a repository (Go, Python, JavaScript): which
 * files are sources and tests, the name of the small function a ticket adds, the function's text
 * (right or, under `[sim:repo-fail=Tn]`, returning a wrong value), and its test in the language's
 * convention. Pure text work, deterministic.
 */
import path from 'node:path/posix';

/** A language the simulator edits. */
export type SimLang = 'go' | 'python' | 'js';

/** The language of a source path, if the simulator edits it. */
export function langOf(file: string): SimLang | undefined {
  if (file.endsWith('.go')) return 'go';
  if (file.endsWith('.py')) return 'python';
  if (/\.(m?js|cjs)$/.test(file)) return 'js';
  return undefined;
}

const GO_PLATFORM =
  /_(js|wasm|windows|linux|darwin|freebsd|netbsd|openbsd|plan9|solaris|aix|android|ios|illumos|dragonfly|unix|amd64|arm64|386|arm|appengine)\.go$/;
const SKIPPED_DIRS =
  /(^|\/)(docs?|examples?|tools?|scripts?|vendor|testdata|node_modules|third_party|bench(marks?)?|\.[^/]+)\//;

/** Whether a path is a test of its language (`_test.go`, `test_*.py`, `*.test.js`, files under test folders). */
export function isTestFile(file: string): boolean {
  const base = path.basename(file);
  if (file.endsWith('_test.go')) return true;
  if (/^(test_.*|.*_test|conftest)\.py$/.test(base)) return true;
  if (/\.(test|spec)\.[cm]?js$/.test(base)) return true;
  return langOf(file) === 'js' && /(^|\/)(tests?|__tests__)\//.test(file);
}

/** Whether a path is a source file the simulator may add a function to. */
export function isEditableSource(file: string): boolean {
  const lang = langOf(file);
  if (!lang || isTestFile(file) || SKIPPED_DIRS.test(file)) return false;
  const base = path.basename(file);
  if (lang === 'go') return !GO_PLATFORM.test(base);
  if (lang === 'python') return !['setup.py', 'conftest.py', 'noxfile.py', 'fabfile.py'].includes(base);
  return !/\.(min|config|conf)\.[cm]?js$/.test(base) && !/^(gulpfile|gruntfile|webpack|rollup|eslint)/i.test(base);
}

/** The function a ticket adds: `MaestroT1` (Go), `maestro_t1` (Python), `maestroT1` (JS). */
export function functionName(lang: SimLang, ticketId: string): string {
  const n = ticketId.replace(/^T/, '');
  if (lang === 'go') return `MaestroT${n}`;
  if (lang === 'python') return `maestro_t${n}`;
  return `maestroT${n}`;
}

/** The test file of a ticket's function, given the source file and (for Python and JS) an existing test. */
export function testFileFor(lang: SimLang, ticketId: string, source: string, existingTest?: string): string {
  const n = ticketId.replace(/^T/, '').toLowerCase();
  const dir = path.dirname(source);
  const join = (d: string, f: string) => (d === '.' || d === '' ? f : `${d}/${f}`);
  if (lang === 'go') return join(dir, `maestro_t${n}_test.go`);
  if (lang === 'python') return join(existingTest ? path.dirname(existingTest) : 'tests', `test_maestro_t${n}.py`);
  const ext = existingTest ? (/\.[cm]?js$/.exec(existingTest)?.[0] ?? '.js') : '.js';
  const testDir = existingTest ? path.dirname(existingTest) : 'test';
  return join(testDir, `maestro-t${n}.test${ext}`);
}

/** What the function returns: its tag, or a dependency's function's value and its tag. */
export interface FunctionValue {
  /** The value the test expects, e.g. `T1` or `T1+T3`. */
  expected: string;
  /** A function of a dependency it builds on (same file or module), e.g. `MaestroT1`. */
  uses?: string;
  /** The first attempt of a `[sim:repo-fail=Tn]` ticket: returns a wrong value. */
  wrong?: boolean;
}

function returned(lang: SimLang, ticketId: string, v: FunctionValue): string {
  const own = v.wrong ? `${ticketId}-wrong` : ticketId;
  const q = (s: string) => (lang === 'python' ? `"${s}"` : lang === 'go' ? `"${s}"` : `'${s}'`);
  return v.uses ? `${v.uses}() + ${q(`+${own}`)}` : q(own);
}

/** The text appended to a source file: a blank line and the function (exported in Go and JS). */
export function functionText(lang: SimLang, ticketId: string, v: FunctionValue, esm = false): string {
  const name = functionName(lang, ticketId);
  const value = returned(lang, ticketId, v);
  if (lang === 'go')
    return `\n// ${name} returns the tag of Maestro's ticket ${ticketId}.\nfunc ${name}() string { return ${value} }\n`;
  if (lang === 'python')
    return `\n\ndef ${name}():\n    """The tag of Maestro's ticket ${ticketId}."""\n    return ${value}\n`;
  if (esm)
    return `\n/** The tag of Maestro's ticket ${ticketId}. */\nexport function ${name}() {\n  return ${value};\n}\n`;
  return `\n/** The tag of Maestro's ticket ${ticketId}. */\nmodule.exports.${name} = function ${name}() {\n  return ${value};\n};\n`;
}

/** Every text `functionText` may have appended for this ticket (right, wrong, with or without `uses`). */
export function functionVariants(lang: SimLang, ticketId: string, uses?: string): string[] {
  const out: string[] = [];
  for (const esm of [false, true])
    for (const wrong of [false, true])
      for (const u of uses ? [undefined, uses] : [undefined])
        out.push(functionText(lang, ticketId, { expected: '', wrong, ...(u ? { uses: u } : {}) }, esm));
  return out;
}

/** The Go package clause and build constraints of a Go file. */
function goHeader(source: string): { pkg: string; constraints: string[] } {
  const pkg = /^package (\w+)/m.exec(source)?.[1] ?? 'main';
  const head = source.slice(0, Math.max(0, source.search(/^package /m)));
  const constraints = head.split('\n').filter((l) => /^\/\/(go:build | \+build )/.test(l));
  return { pkg, constraints };
}

/** The Python module a source path is imported as (`idna/core.py` -> `idna.core`, `src/` dropped). */
export function pythonModule(source: string): string {
  const noExt = source.replace(/\.py$/, '').replace(/^src\//, '');
  return noExt
    .replace(/\/__init__$/, '')
    .split('/')
    .join('.');
}

/** A relative import path from a test file to a JS source file. */
function jsImport(testFile: string, source: string): string {
  const rel = path.relative(path.dirname(testFile), source);
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The test of a ticket's function in the language's convention. */
export function testText(args: {
  lang: SimLang;
  ticketId: string;
  source: string;
  sourceText: string;
  testFile: string;
  expected: string;
}): string {
  const { lang, ticketId, expected } = args;
  const name = functionName(lang, ticketId);
  if (lang === 'go') {
    const { pkg, constraints } = goHeader(args.sourceText);
    const head = constraints.length > 0 ? `${constraints.join('\n')}\n\n` : '';
    return `${head}package ${pkg}\n\nimport "testing"\n\nfunc Test${name}(t *testing.T) {\n\tif got := ${name}(); got != "${expected}" {\n\t\tt.Fatalf("${name}() = %q, want %q", got, "${expected}")\n\t}\n}\n`;
  }
  if (lang === 'python') {
    const mod = pythonModule(args.source);
    const cls = name.replace(/(^|_)([a-z0-9])/g, (_m, _s: string, c: string) => c.toUpperCase());
    return `import unittest\n\nfrom ${mod} import ${name}\n\n\nclass ${cls}Test(unittest.TestCase):\n    def test_${name}(self):\n        self.assertEqual(${name}(), "${expected}")\n\n\nif __name__ == "__main__":\n    unittest.main()\n`;
  }
  const esm = /^\s*(export|import)\s/m.test(args.sourceText) || args.source.endsWith('.mjs');
  const from = jsImport(args.testFile, args.source);
  const load = esm
    ? `import assert from 'node:assert/strict';\nimport test from 'node:test';\nimport { ${name} } from '${from}';\n`
    : `const assert = require('node:assert/strict');\nconst test = require('node:test');\nconst { ${name} } = require('${from}');\n`;
  return `${load}\ntest('${name} returns ${expected}', () => {\n  assert.equal(${name}(), '${expected}');\n});\n`;
}
