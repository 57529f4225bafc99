/**
 * The repository's own test and build commands (issue 20): detected from the files at the base
 * commit, so the run checks work with the tests the project already has. A person overrides the
 * test command with `--test-command` or `repo.testCommand` in maestro.config.json.
 */

/** What was detected; either may be absent. */
export interface DetectedCommands {
  test?: string;
  build?: string;
}

/** The npm default test script of `npm init`: not a real test suite. */
const NPM_PLACEHOLDER = /no test specified/i;

const PYTHON_MARKERS = ['pyproject.toml', 'setup.py', 'setup.cfg', 'pytest.ini', 'tox.ini'];

/** The scripts of a package.json text; empty when it is not valid JSON. */
function npmScripts(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const json = JSON.parse(text) as { scripts?: unknown };
    return json.scripts && typeof json.scripts === 'object' ? (json.scripts as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Whether a Makefile text defines `target:` (not `target :=`). */
function makeTarget(text: string | undefined, target: string): boolean {
  if (text === undefined) return false;
  return new RegExp(`^${target}\\s*:(?!=)`, 'm').test(text);
}

/**
 * The test and build commands for a tree whose paths are `paths` (the whole commit), reading
 * top-level files through `read` (undefined when absent or too big). Order: Go, npm, Python,
 * Cargo, then a Makefile's `test:` target.
 */
export async function detectCommands(
  paths: readonly string[],
  read: (path: string) => Promise<string | undefined>,
): Promise<DetectedCommands> {
  const top = new Set(paths.filter((p) => !p.includes('/')));
  const out: DetectedCommands = {};
  const scripts = top.has('package.json') ? npmScripts(await read('package.json')) : {};
  const makefile = top.has('Makefile')
    ? await read('Makefile')
    : top.has('makefile')
      ? await read('makefile')
      : undefined;
  const pythonTests = paths.some((p) => /^tests?\/(.+\/)?[^/]+\.py$/.test(p));
  if (top.has('go.mod')) out.test = 'go test ./...';
  else if (typeof scripts.test === 'string' && scripts.test.trim() && !NPM_PLACEHOLDER.test(scripts.test))
    out.test = 'npm test';
  else if (PYTHON_MARKERS.some((m) => top.has(m)) || pythonTests) out.test = 'python3 -m pytest -q';
  else if (top.has('Cargo.toml')) out.test = 'cargo test';
  else if (makeTarget(makefile, 'test')) out.test = 'make test';
  if (top.has('go.mod')) out.build = 'go build ./...';
  else if (typeof scripts.build === 'string' && scripts.build.trim()) out.build = 'npm run build';
  else if (top.has('Cargo.toml')) out.build = 'cargo build';
  else if (makeTarget(makefile, 'build')) out.build = 'make build';
  return out;
}

/** Checks a test command given by a person: one line, bounded; throws Error saying what to fix. */
export function checkTestCommand(cmd: string, from: string): string {
  const t = cmd.trim();
  if (!t || t.length > 500 || /[\0-\x1f\x7f]/.test(t))
    throw new Error(`${from}: give the test command as one line of at most 500 characters, e.g. "go test ./...".`);
  return t;
}

/** The test command a run uses: the flag's, else the configuration's, else the detected one. */
export function chooseTestCommand(flag?: string, configured?: string, detected?: string): string | undefined {
  if (flag !== undefined) return checkTestCommand(flag, '--test-command');
  if (configured !== undefined) return checkTestCommand(configured, 'maestro.config.json repo.testCommand');
  return detected;
}
