/**
 * Git fixtures made from real open-source projects with their own test suites, fetched from the
 * registries they are published on (issue 20: tests against code nobody here wrote):
 * - Go: github.com/google/uuid v1.6.0 from the Go module proxy (`go mod download`), tested with
 *   `go test ./...`;
 * - Python: idna 3.10, the sdist from PyPI (`pip download --no-binary :all:`), whose own unittest
 *   suite runs with `python3 -m pytest` and needs no other package.
 * Downloads are cached under the project's `.maestro/fixtures` (gitignored; `.ci/run` fetches them
 * first), so tests reuse them offline. Each call makes a fresh repository in a temporary folder:
 * the project's files in one commit on `main`, with a fixed identity and date (same commit id on
 * every host).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gitText } from '../../src/activities/repo/git';

const run = promisify(execFile);

/** The project's fixture cache (`.maestro/fixtures`, gitignored). */
export const FIXTURE_CACHE = path.resolve(__dirname, '..', '..', '.maestro', 'fixtures');

/** A fixture repository. */
export interface RepoFixture {
  /** The repository's folder (a fresh temporary folder per call). */
  dir: string;
  /** What the project is, e.g. `github.com/google/uuid@v1.6.0`. */
  project: string;
  language: 'go' | 'python';
  /** The project's own test command, run in the repository's folder. */
  testCommand: string[];
  /** The one commit on `main`. */
  head: string;
}

/** The projects the fixtures are made from. */
export const FIXTURE_PROJECTS = {
  go: { module: 'github.com/google/uuid', version: 'v1.6.0', testCommand: ['go', 'test', './...'] },
  python: { pkg: 'idna', version: '3.10', testCommand: ['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider'] },
} as const;

const FIXED_DATE = '2024-01-01T00:00:00Z';

/** The Go module's folder in the cache, downloaded from the module proxy when missing. */
export async function fetchGoModule(): Promise<string> {
  const { module, version } = FIXTURE_PROJECTS.go;
  const modCache = path.join(FIXTURE_CACHE, 'go-mod');
  const dir = path.join(modCache, ...module.split('/').slice(0, -1), `${module.split('/').pop()}@${version}`);
  if (existsSync(path.join(dir, 'go.mod'))) return dir;
  mkdirSync(modCache, { recursive: true });
  const env = { ...process.env, GOMODCACHE: modCache, GOFLAGS: '-modcacherw', GO111MODULE: 'on' };
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@${version}`], {
    env,
    cwd: os.tmpdir(),
    timeout: 120_000,
  });
  const got = (JSON.parse(stdout) as { Dir?: string; Error?: string }).Dir;
  if (!got || !existsSync(got)) throw new Error(`go mod download of ${module}@${version} gave no folder: ${stdout}`);
  return got;
}

/** The Python sdist in the cache, downloaded from PyPI when missing. */
export async function fetchPythonSdist(): Promise<string> {
  const { pkg, version } = FIXTURE_PROJECTS.python;
  const dir = path.join(FIXTURE_CACHE, 'pypi');
  const file = path.join(dir, `${pkg}-${version}.tar.gz`);
  if (existsSync(file)) return file;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'maestro-pypi-'));
  try {
    await run(
      'python3',
      ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-binary', ':all:', '--no-deps'].concat([
        `${pkg}==${version}`,
        '-d',
        tmp,
      ]),
      { timeout: 180_000 },
    );
    const got = readdirSync(tmp).find((f) => f.endsWith('.tar.gz'));
    if (!got) throw new Error(`pip download of ${pkg}==${version} gave no sdist in ${tmp}`);
    mkdirSync(dir, { recursive: true });
    renameSync(path.join(tmp, got), file); // atomic: a killed download leaves no half file
    return file;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Fetches every fixture project into the cache (what `.ci/run` calls before the tests). */
export async function prefetchFixtures(): Promise<string[]> {
  return [await fetchGoModule(), await fetchPythonSdist()];
}

/** Makes `dir` a git repository with its files in one commit on `main` (fixed identity and date). */
export async function commitAll(dir: string, message: string): Promise<string> {
  const env = { GIT_AUTHOR_DATE: FIXED_DATE, GIT_COMMITTER_DATE: FIXED_DATE };
  await gitText(['init', '-q', '-b', 'main'], { cwd: dir });
  await gitText(['add', '-A'], { cwd: dir });
  await gitText(['commit', '-q', '-m', message], { cwd: dir, env });
  return gitText(['rev-parse', 'HEAD'], { cwd: dir });
}

function freshDir(name: string): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-fixture-')), name);
}

/** A fresh git repository of the Go module (google/uuid). */
export async function goFixture(): Promise<RepoFixture> {
  const { module, version, testCommand } = FIXTURE_PROJECTS.go;
  const src = await fetchGoModule();
  const dir = freshDir('uuid');
  cpSync(src, dir, { recursive: true });
  await run('chmod', ['-R', 'u+w', dir]); // the module cache's files are read-only
  const head = await commitAll(dir, `${module} ${version} from the Go module proxy`);
  return { dir, project: `${module}@${version}`, language: 'go', testCommand: [...testCommand], head };
}

/** A fresh git repository of the Python project (idna's sdist, with its tests). */
export async function pythonFixture(): Promise<RepoFixture> {
  const { pkg, version, testCommand } = FIXTURE_PROJECTS.python;
  const sdist = await fetchPythonSdist();
  const parent = path.dirname(freshDir(pkg));
  await run('tar', ['-xzf', sdist, '-C', parent]);
  const dir = path.join(parent, pkg);
  renameSync(path.join(parent, `${pkg}-${version}`), dir);
  const head = await commitAll(dir, `${pkg} ${version} from PyPI (sdist)`);
  return { dir, project: `${pkg}==${version}`, language: 'python', testCommand: [...testCommand], head };
}

/** Runs a fixture's test command in `dir`; resolves with its exit code and output (never rejects on failure). */
export async function runFixtureTests(
  fixture: Pick<RepoFixture, 'testCommand' | 'language'>,
  dir: string,
): Promise<{ code: number; output: string }> {
  const [cmd, ...args] = fixture.testCommand;
  const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', GOFLAGS: '-mod=mod', GOPROXY: 'off' };
  try {
    const { stdout, stderr } = await run(cmd!, args, { cwd: dir, env, timeout: 300_000, maxBuffer: 32 << 20 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

// `npx tsx test/helpers/repo-fixtures.ts` fetches the fixtures into the cache (what `.ci/run` does).
if (require.main === module) {
  prefetchFixtures()
    .then((p) => console.log(`fixtures cached: ${p.join(', ')}`))
    .catch((err: unknown) => {
      console.error(`could not fetch the test fixtures: ${(err as Error).message}`);
      process.exit(1);
    });
}
