/**
 * The tools of a repo ticket against a real repository carried as a bundle (issue 20): read_file
 * and list_files see the start tree plus the ticket's own files without a checkout, write_file adds
 * own files, run_command runs on a checkout whose changes come back through `git status` as own
 * files. The repository is hostile: symbolic links to /etc/passwd and to ../../, a .gitattributes
 * filter its config defines (with a hook), and own files named `.git/config`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { gitText } from '../../src/activities/repo/git';
import { materialiseTree, treeDiff, type RepoTree } from '../../src/activities/repo/tree';
import { runBuiltInTool, type ToolContext } from '../../src/activities/tools/builtin-tools';
import { isolationAvailable, type Isolation } from '../../src/activities/tools/sandbox';
import type { AgentSettings } from '../../src/shared/tools';
import type { ArtifactRef } from '../../src/shared/types';
import { openTree, snapshotOf } from '../helpers/repo-snapshot';

const ALL: AgentSettings = { tools: ['read_file', 'list_files', 'write_file', 'run_command'] };
const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));

let dir: string;
let store: FsArtifactStore;
let tree: RepoTree;
let marker: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-tools-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const src = path.join(dir, 'src-repo');
  marker = path.join(dir, 'PWNED');
  mkdirSync(path.join(src, 'lib'), { recursive: true });
  writeFileSync(path.join(src, 'README.md'), '# demo\n');
  writeFileSync(path.join(src, 'lib', 'util.js'), 'module.exports = (a, b) => a + b;\n');
  writeFileSync(path.join(src, '.gitignore'), 'build/\n');
  writeFileSync(path.join(src, '.gitattributes'), '* filter=evil\n');
  symlinkSync('/etc/passwd', path.join(src, 'passwd'));
  symlinkSync('../../', path.join(src, 'up'));
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  // The source repository's own config and hooks would run code on checkout; they never travel.
  await gitText(['config', 'filter.evil.smudge', `touch ${marker}`], { cwd: src });
  writeFileSync(path.join(src, '.git', 'hooks', 'post-checkout'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  tree = await openTree(store, await snapshotOf(store, src), path.join(dir, 'repos'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(own: ArtifactRef[] = [], isolation?: Isolation): ToolContext {
  return {
    store,
    files: { dependencies: [], own },
    settings: ALL,
    hide: [dir],
    workspaceParent: path.join(dir, 'ws'),
    repo: { open: () => Promise.resolve(tree) },
    ...(isolation ? { isolation } : {}),
  };
}

const call = (c: ToolContext, tool: Parameters<typeof runBuiltInTool>[1], args: object) =>
  runBuiltInTool(c, tool, JSON.stringify(args));

test('read_file and list_files see the tree and own files; links and .git are never followed', async () => {
  const mine = await store.put({ path: 'lib/util.js', content: 'module.exports = (a, b) => a * b;\n' });
  const list = await call(ctx([mine]), 'list_files', {});
  expect(list.content.split('\n')).toEqual([
    '.gitattributes (14 bytes)',
    '.gitignore (7 bytes)',
    'README.md (7 bytes)',
    `lib/util.js (${mine.bytes} bytes, yours)`,
    'passwd (symbolic link)',
    'up (symbolic link)',
  ]);
  expect((await call(ctx([mine]), 'read_file', { path: 'lib/util.js' })).content).toContain('a * b');
  expect((await call(ctx(), 'read_file', { path: 'lib/util.js' })).content).toContain('a + b');
  const link = await call(ctx(), 'read_file', { path: 'passwd' });
  expect(link.notRun).toBe('invalid-call');
  expect(link.content).toMatch(/symbolic link/);
  expect(link.content).not.toContain('root:');
  expect((await call(ctx(), 'read_file', { path: 'up/etc/passwd' })).content).toMatch(/no file "up\/etc\/passwd"/);
  expect((await call(ctx(), 'read_file', { path: '.git/config' })).content).toMatch(/git's own folder/);
  expect((await call(ctx(), 'read_file', { path: 'lib' })).content).toMatch(/is a folder/);
  expect((await call(ctx(), 'list_files', { path: 'lib' })).content).toBe('lib/util.js (34 bytes)');
  expect(existsSync(marker)).toBe(false);
});

test('write_file refuses .git paths and paths through links or files of the tree', async () => {
  for (const p of ['.git/config', '.GIT/hooks/pre-commit', 'lib/.git/config', '.git./x'])
    expect((await call(ctx(), 'write_file', { path: p, content: 'x' })).content).toMatch(/git's own folder/);
  expect((await call(ctx(), 'write_file', { path: 'passwd', content: 'x' })).content).toMatch(/symbolic link/);
  expect((await call(ctx(), 'write_file', { path: 'up/etc/owned', content: 'x' })).content).toMatch(
    /goes through "up"/,
  );
  expect((await call(ctx(), 'write_file', { path: 'README.md/x', content: 'x' })).content).toMatch(/not a folder/);
  const ok = await call(ctx(), 'write_file', { path: 'lib/new.js', content: 'x' });
  expect(ok.written.map((w) => w.path)).toEqual(['lib/new.js']);
});

test('an own file named .git/config is refused before any checkout', async () => {
  const evil = await store.put({ path: '.git/config', content: '[core]\n\tfsmonitor = touch /tmp/x\n' });
  await expect(materialiseTree(store, tree, [evil], path.join(dir, 'ws'))).rejects.toThrow(/git's own folder/);
  expect(readdirSync(path.join(dir, 'ws'))).toEqual([]);
});

test("a ticket's diff against its start shows its own files only", async () => {
  const mine = await store.put({ path: 'README.md', content: '# demo\nmore\n' });
  const { diff } = await treeDiff(store, tree, [mine], 10_000);
  expect(diff).toContain('+more');
  expect(diff.match(/^diff --git/gm)).toHaveLength(1);
});

describe.each(ISOLATIONS)('run_command on a repo tree (%s)', (isolation) => {
  test('sees tree and own files; what it creates or changes becomes own files, ignored output and links do not', async () => {
    const script = await store.put({
      path: 'tools/change.js',
      content: `const fs = require('fs');
console.log('util:', fs.readFileSync('lib/util.js', 'utf8').trim());
fs.writeFileSync('lib/new.js', 'exports.x = 1;\\n');
fs.appendFileSync('README.md', 'changed\\n');
fs.mkdirSync('build', { recursive: true }); fs.writeFileSync('build/out.txt', 'ignored');
fs.symlinkSync('/etc/shadow', 'shadow-link');
fs.mkdirSync('.git'); fs.writeFileSync('.git/config', '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n');
try { fs.writeFileSync('up/owned', 'x'); console.log('up: written'); } catch (e) { console.log('up:', e.code); }
try { fs.writeFileSync('passwd', 'x'); console.log('passwd: written'); } catch (e) { console.log('passwd:', e.code); }
`,
    });
    const mine = await store.put({ path: 'lib/util.js', content: 'module.exports = (a, b) => a - b;\n' });
    const res = await call(ctx([script, mine], isolation), 'run_command', { command: 'node tools/change.js' });
    expect(res.content).toContain('exit code 0');
    expect(res.content).toContain('util: module.exports = (a, b) => a - b;');
    expect(res.content).toMatch(/up: E(ROFS|ACCES)/);
    expect(res.content).toMatch(/passwd: E(ROFS|ACCES)/);
    expect(res.written.map((w) => w.path).sort()).toEqual(['README.md', 'lib/new.js']);
    expect((await store.read(res.written.find((w) => w.path === 'README.md')!)).toString()).toBe('# demo\nchanged\n');
    expect(existsSync(marker)).toBe(false);
    expect(readdirSync(path.join(dir, 'ws'))).toEqual([]);
  });
});

test.each(ISOLATIONS)('a command that changes nothing keeps no file of the tree (%s)', async (isolation) => {
  const mine = await store.put({ path: 'lib/util.js', content: 'module.exports = (a, b) => a - b;\n' });
  const res = await call(ctx([mine], isolation), 'run_command', { command: 'cat README.md' });
  expect(res.isError).toBe(false);
  // Only what the command created or changed becomes the ticket's: a whole tree would land in the
  // run's manifest and payloads (and a 10,000-file repository would not fit).
  expect(res.written.map((w) => w.path)).toEqual([]);
  expect(res.content).not.toMatch(/files kept/);
});
