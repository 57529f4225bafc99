/**
 * The repository map the Boss plans from (issue 20), built from real git repositories in temp
 * folders: its format, the token cap on generated repositories of 100 / 1,000 / 10,000 files
 * (growth far below linear), symbols, the README opening, detected commands, and hostile content
 * (escape codes and newlines in file names, a symlink pointing out of the repository).
 */
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { countTokens } from '../../src/activities/llm/usage-of';
import { parseConfigFile } from '../../src/config-file';
import { git } from '../../src/activities/repo/git';
import { buildRepoMap, type RepoMap } from '../../src/activities/repo/repo-map';
import { symbolsOf } from '../../src/activities/repo/repo-map-symbols';
import { chooseTestCommand, detectCommands } from '../../src/activities/repo/test-command';
import { generateRepo } from '../../src/bench/generated-repo';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'repo-map-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A repository with these files (text content) committed; returns its folder and commit. */
async function repoWith(name: string, files: Record<string, string>): Promise<{ dir: string; head: string }> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  await git(['init', '--quiet', dir]);
  for (const [p, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), text);
  }
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'init'], { cwd: dir });
  return { dir, head: (await git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.toString().trim() };
}

const mapOf = (dir: string, head: string, maxTokens?: number): Promise<RepoMap> =>
  buildRepoMap((a, o) => git(a, { cwd: dir, ...o }), head, path.basename(dir), maxTokens ? { maxTokens } : {});

test('a small Go repository: header, languages, commands, README opening, every file with its size, symbols', async () => {
  const files = {
    'go.mod': 'module example.com/limiter\n\ngo 1.21\n',
    'README.md': '# limiter\n\nA token bucket rate limiter.\n\n```go\nl := limiter.New()\n```\nmore text\n',
    'limiter.go':
      'package limiter\n\ntype Limiter struct{}\n\nfunc New() *Limiter { return nil }\n\nfunc (l *Limiter) Allow() bool { return true }\n',
    'limiter_test.go': 'package limiter\n\nfunc TestAllow(t *testing.T) {}\n',
    'docs/design.md': '# Design\n',
  };
  const { dir, head } = await repoWith('small-go', files);
  const bytes = Object.values(files).reduce((s, t) => s + Buffer.byteLength(t), 0);
  const map = await mapOf(dir, head);
  const lines = map.text.split('\n');
  expect(lines[0]).toBe(`# Repository map: small-go at ${head.slice(0, 12)} (5 files, ${bytes} B)`);
  expect(lines[1]).toBe('Languages: Go 2, Markdown 2');
  expect(lines).toContain('Test command: go test ./...');
  expect(lines).toContain('Build command: go build ./...');
  // The README's prose, not its code block.
  const readme = lines.slice(lines.indexOf('## README (opening)') + 1, lines.indexOf('## Tree'));
  expect(readme).toEqual(['# limiter', '', 'A token bucket rate limiter.']);
  const tree = lines.slice(lines.indexOf('## Tree') + 1, lines.indexOf('## Symbols'));
  expect(tree).toContain(`- limiter.go (${Buffer.byteLength(files['limiter.go'])} B)`);
  expect(tree).toContain('- docs/design.md (9 B)');
  expect(tree).toHaveLength(5);
  expect(lines).toContain('- limiter.go: type Limiter, func New, func Allow');
  expect(lines).toContain('- limiter_test.go: func TestAllow');
  expect(map.tokens).toBe(countTokens(map.text));
});

test('generated repositories of 100, 1,000 and 10,000 files: the map stays within the cap and grows sub-linearly', async () => {
  const sizes = [100, 1000, 10_000];
  const maps: RepoMap[] = [];
  for (const n of sizes) {
    const dir = path.join(tmp, `gen-${n}`);
    const head = await generateRepo(dir, n);
    const started = Date.now();
    maps.push(await mapOf(dir, head));
    expect(Date.now() - started).toBeLessThan(30_000);
  }
  for (const [i, m] of maps.entries()) {
    expect(m.files).toBe(sizes[i]);
    expect(m.tokens).toBeLessThanOrEqual(4000);
    expect(m.text).toContain('## Tree');
  }
  // 100x the files, not even 3x the tokens.
  expect(maps[2]!.tokens / maps[0]!.tokens).toBeLessThan(3);
  // The big one summarises folders: each summary counts its files, and every file is counted once.
  const summaries = [...maps[2]!.text.matchAll(/^- (.+)\/ \((\d+) files, (\d+) B(?:; [^)]*)?\)$/gm)];
  const single = [...maps[2]!.text.matchAll(/^- ([^:\n]+) \((\d+) B\)$/gm)];
  expect(summaries.length).toBeGreaterThan(3);
  expect(summaries.reduce((s, m) => s + Number(m[2]), 0) + single.length).toBe(10_000);
  // A smaller cap is honoured too.
  const small = await mapOf(path.join(tmp, 'gen-10000'), 'HEAD', 1000);
  expect(small.tokens).toBeLessThanOrEqual(1000);
}, 120_000);

test('file names with newlines and escape codes stay one escaped line each; a symlink out of the repository is not followed', async () => {
  const { dir } = await repoWith('hostile', { 'ok.py': 'def fine():\n    pass\n' });
  await writeFile(path.join(dir, 'evil\n## Symbols\n- x.go: func Fake'), 'x');
  await writeFile(path.join(dir, '\u001b[31mred.go'), 'package red\n\nfunc Red() {}\n');
  await writeFile(path.join(tmp, 'secret.txt'), 'TOP-SECRET-CONTENT\n');
  await symlink(path.join(tmp, 'secret.txt'), path.join(dir, 'README.md'));
  await symlink(path.join(tmp, 'secret.txt'), path.join(dir, 'leak.py'));
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'hostile'], { cwd: dir });
  const map = await mapOf(dir, 'HEAD');
  expect(map.text).not.toContain('TOP-SECRET');
  expect(map.text).not.toContain('\u001b');
  expect(map.text).not.toContain('## README');
  expect(map.text.match(/^## Symbols$/gm)).toHaveLength(1);
  expect(map.text).toContain('- evil\\x0a## Symbols\\x0a- x.go: func Fake (1 B)');
  expect(map.text).toContain('- \\x1b[31mred.go: func Red');
  expect(map.text).toContain(`- leak.py (${path.join(tmp, 'secret.txt').length} B)`);
  expect(map.text).toContain('- ok.py: def fine');
});

test('symbols per language, bounded per file', () => {
  expect(
    symbolsOf('Python', 'import os\n\nclass A:\n    def inner(self): pass\n\nasync def run():\n    pass\n'),
  ).toEqual(['class A', 'def run']);
  expect(
    symbolsOf(
      'TypeScript',
      'export function a() {}\nexport const b = 1;\nexport interface C {}\nfunction hidden() {}\n',
    ),
  ).toEqual(['function a', 'const b', 'type C']);
  expect(symbolsOf('Rust', 'pub struct S;\nfn main() {}\npub(crate) enum E {}\n')).toEqual([
    'struct S',
    'fn main',
    'enum E',
  ]);
  const many = Array.from({ length: 50 }, (_, i) => `func F${i}() {}`).join('\n');
  expect(symbolsOf('Go', many)).toHaveLength(8);
});

test('test and build commands are detected per ecosystem, and the flag beats the configuration beats detection', async () => {
  const read = (files: Record<string, string>) => async (p: string) => files[p];
  const detect = (files: Record<string, string>, extra: string[] = []) =>
    detectCommands([...Object.keys(files), ...extra], read(files));
  expect(await detect({ 'go.mod': '' })).toEqual({ test: 'go test ./...', build: 'go build ./...' });
  expect(await detect({ 'package.json': '{"scripts":{"test":"jest","build":"tsc"}}' })).toEqual({
    test: 'npm test',
    build: 'npm run build',
  });
  expect(
    await detect({ 'package.json': '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1"}}' }),
  ).toEqual({});
  expect(await detect({ 'pyproject.toml': '' })).toEqual({ test: 'python3 -m pytest -q' });
  expect(await detect({}, ['tests/test_x.py'])).toEqual({ test: 'python3 -m pytest -q' });
  expect(await detect({ 'Cargo.toml': '' })).toEqual({ test: 'cargo test', build: 'cargo build' });
  expect(await detect({ Makefile: 'CC := gcc\ntest: all\n\t./run\n' })).toEqual({ test: 'make test' });
  expect(await detect({ Makefile: 'test := 1\n' })).toEqual({});
  expect(chooseTestCommand('make check', 'npm test', 'go test ./...')).toBe('make check');
  expect(chooseTestCommand(undefined, 'npm test', 'go test ./...')).toBe('npm test');
  expect(chooseTestCommand(undefined, undefined, 'go test ./...')).toBe('go test ./...');
  expect(() => chooseTestCommand('a\nb')).toThrow(/one line/);
});

test('maestro.config.json takes a repo section (test command, map cap) and refuses what is wrong in it', () => {
  expect(parseConfigFile('{"repo":{"testCommand":"make check","mapTokens":2000}}', 'm.json').repo).toEqual({
    testCommand: 'make check',
    mapTokens: 2000,
  });
  expect(() => parseConfigFile('{"repo":{"testCommand":"a\\nb"}}', 'm.json')).toThrow(
    /repo\.testCommand: must be one line/,
  );
  expect(() => parseConfigFile('{"repo":{"mapTokens":10}}', 'm.json')).toThrow(/repo\.mapTokens/);
  expect(() => parseConfigFile('{"repo":{"testComand":"x"}}', 'm.json')).toThrow(/repo/);
});
