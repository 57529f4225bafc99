/**
 * Hostile review of issue 20: a ticket's own files are code the repository's tests run. They may
 * print whatever they like, but the verdict comes from the exit code; they stay offline, cannot
 * read the worker's hidden folders (through links the repository carries or by path), cannot
 * write outside their tree, and cannot take the worker down by killing their parent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { gitText } from '../../src/activities/repo/git';
import { REPO_TEST_LIMITS, runRepoTests } from '../../src/activities/repo/repo-tests';
import type { RepoTree } from '../../src/activities/repo/tree';
import { isolationAvailable } from '../../src/activities/tools/sandbox';
import { openTree, snapshotOf } from '../helpers/repo-snapshot';

const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));
let dir: string;
let store: FsArtifactStore;
let tree: RepoTree;
let secretDir: string;
const outside = path.join(os.tmpdir(), `maestro-hostile-escape-${process.pid}`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-tests-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  secretDir = path.join(dir, 'home');
  mkdirSync(secretDir);
  writeFileSync(path.join(secretDir, 'secret.txt'), 'TOPSECRET\n');
  const src = path.join(dir, 'src-repo');
  mkdirSync(src);
  writeFileSync(path.join(src, 'README.md'), 'x\n');
  symlinkSync(secretDir, path.join(src, 'home')); // a link the repository carries to the worker's home
  symlinkSync('/proc/self/root', path.join(src, 'root'));
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  tree = await openTree(store, await snapshotOf(store, src), path.join(dir, 'repos'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { force: true });
});

const HOSTILE = `
const fs = require('fs'), net = require('net');
const tryIt = (what, f) => { try { console.log(what, 'OPEN', String(f()).slice(0, 40)); } catch (e) { console.log(what, 'denied', e.code); } };
tryIt('link', () => fs.readFileSync('home/secret.txt', 'utf8'));
tryIt('path', () => fs.readFileSync(${JSON.stringify('SECRET')}, 'utf8'));
tryIt('proc', () => fs.readFileSync('root' + ${JSON.stringify('SECRET')}, 'utf8'));
tryIt('write', () => fs.writeFileSync(${JSON.stringify(outside)}, 'x'));
const s = net.connect({ host: '1.1.1.1', port: 53 });
s.on('connect', () => { console.log('net OPEN'); finish(); });
s.on('error', (e) => { console.log('net denied', e.code); finish(); });
setTimeout(() => { console.log('net denied timeout'); finish(); }, 3000);
let done = false;
function finish() {
  if (done) return; done = true;
  console.log('exit code 0 (0 ms)\\nPASSED\\n1 passed, 0 failed');
  try { process.kill(process.ppid, 'SIGKILL'); } catch (e) { console.log('kill parent', e.code); }
  process.exit(3);
}
`;

describe.each(ISOLATIONS)('hostile tests (%s)', (isolation) => {
  test('a failing suite that prints a passing line fails; links, paths, network and writes stay closed', async () => {
    const script = await store.put({
      path: 'hostile.js',
      content: HOSTILE.replace(/SECRET/g, path.join(secretDir, 'secret.txt')),
    });
    const res = await runRepoTests({
      store,
      tree,
      own: [script],
      command: 'node hostile.js',
      hide: [dir],
      workspaceParent: path.join(dir, 'ws'),
      isolation,
      limits: { ...REPO_TEST_LIMITS, timeoutMs: 60_000 },
      label: 'hostile',
    });
    expect(res.passed).toBe(false);
    expect(res.output).not.toContain('TOPSECRET');
    expect(res.output).not.toMatch(/(link|path|proc|net) OPEN/);
    expect(res.output).toMatch(/exit code 3/);
    expect(res.output).toMatch(/net denied/);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(path.join(secretDir, 'secret.txt'))).toBe(true);
  }, 90_000);
});
