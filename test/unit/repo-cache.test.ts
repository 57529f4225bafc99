/**
 * A worker rebuilds a run's commit from the artifact store alone (issue 20): the base bundle, then
 * the series bundle of a later snapshot, in a copy of its own; forged snapshots are refused before
 * they reach git, and copies made concurrently or left half-made by a killed worker are safe.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { cleanStaleCopies, openSnapshot, storeSeries } from '../../src/activities/repo/cache';
import { ownerTag } from '../../src/activities/tools/process-owner';
import { gitText } from '../../src/activities/repo/git';
import type { RepoSnapshot } from '../../src/shared/repo';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' }).trim();

/** A user's repository with one commit, and its base bundle in a fresh store. */
async function fixture(name: string) {
  const repo = path.join(tmp, name);
  mkdirSync(repo);
  sh(repo, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'a.txt'), `one ${name}\n`);
  sh(repo, 'add', '.');
  sh(repo, 'commit', '-qm', 'first');
  const base = sh(repo, 'rev-parse', 'HEAD');
  const bundleFile = path.join(tmp, `${name}.bundle`);
  sh(repo, 'bundle', 'create', '-q', bundleFile, 'main');
  const store = new FsArtifactStore(path.join(tmp, `${name}-store`));
  const bundle = await store.put({ path: 'repo/base.bundle', content: readFileSync(bundleFile) });
  const snapshot: RepoSnapshot = { bundle, base, head: base };
  return { repo, store, snapshot, base };
}

test('a later commit travels as a series bundle and is rebuilt in another worker copy', async () => {
  const { store, snapshot, base } = await fixture('travel');
  const workerA = path.join(tmp, 'worker-a');
  const dirA = await openSnapshot(store, snapshot, workerA);
  // Worker A makes a commit on the base (as the merge queue does) and stores base..head.
  const tree = await gitText(['write-tree'], {
    gitDir: dirA,
    env: { GIT_INDEX_FILE: path.join(tmp, 'idx') },
  }).catch(() => '');
  expect(tree).not.toBe(''); // an empty index writes the empty tree
  const head = await gitText(['commit-tree', tree, '-p', base, '-m', 'second'], { gitDir: dirA });
  const series = await storeSeries(store, dirA, base, head, 'maestro/run-1');

  // Worker B has never seen the repository: it rebuilds `head` from the store alone.
  const dirB = await openSnapshot(store, { ...snapshot, head, series }, path.join(tmp, 'worker-b'));
  expect(await gitText(['rev-parse', `${head}^{commit}`], { gitDir: dirB })).toBe(head);
  expect(await gitText(['log', '--format=%s', head], { gitDir: dirB })).toBe('second\nfirst');
  // The bundle's one ref is the branch the client fetches.
  const bundlePath = path.join(tmp, 'series.bundle');
  writeFileSync(bundlePath, await store.read(series));
  expect(await gitText(['bundle', 'list-heads', bundlePath], { gitDir: dirB })).toBe(
    `${head} refs/heads/maestro/run-1`,
  );
});

test('forged snapshots are refused with a message, before any git command sees them', async () => {
  const { store, snapshot } = await fixture('forged');
  const parent = path.join(tmp, 'worker-forged');
  await expect(openSnapshot(store, { ...snapshot, head: '--upload-pack=touch /tmp/x' }, parent)).rejects.toThrow(
    /head is not a commit id/,
  );
  await expect(openSnapshot(store, { ...snapshot, head: 'a'.repeat(40) }, parent)).rejects.toThrow(/no series bundle/);
  // A series bundle that does not hold the head it claims.
  await expect(
    openSnapshot(store, { ...snapshot, head: 'a'.repeat(40), series: snapshot.bundle }, parent),
  ).rejects.toThrow(/does not contain the commit aaaaaaaaaaaa/);
  // A base bundle of another repository.
  const other = await fixture('forged-other');
  await expect(openSnapshot(store, { ...snapshot, bundle: other.snapshot.bundle }, parent)).rejects.toThrow(
    /is not in the artifact store|does not contain the base commit/,
  );
  expect(readdirSync(parent).filter((n) => n.startsWith('tmp-'))).toEqual([]);
});

test('concurrent opens of one repository share one copy; a half-made copy is rebuilt', async () => {
  const { store, snapshot, base } = await fixture('concurrent');
  const parent = path.join(tmp, 'worker-concurrent');
  const dirs = await Promise.all(Array.from({ length: 6 }, () => openSnapshot(store, snapshot, parent)));
  expect(new Set(dirs).size).toBe(1);
  // A worker killed before it finished its copy leaves a folder without the ready marker.
  rmSync(dirs[0]!, { recursive: true, force: true });
  mkdirSync(dirs[0]!, { recursive: true });
  writeFileSync(path.join(dirs[0]!, 'HEAD'), 'garbage');
  const again = await openSnapshot(store, snapshot, parent);
  expect(await gitText(['rev-parse', `${base}^{commit}`], { gitDir: again })).toBe(base);
});

test("at worker start, temp copies of dead workers are removed and a live worker's are kept", async () => {
  const parent = path.join(tmp, 'worker-stale');
  const dead = path.join(parent, 'tmp-999999.1-abc.git'); // a pid with another start time: gone
  const live = path.join(parent, `tmp-${ownerTag()}-def.git`);
  const copy = path.join(parent, `${'0'.repeat(32)}.git`);
  for (const d of [dead, live, copy]) mkdirSync(d, { recursive: true });
  await cleanStaleCopies(parent);
  expect(readdirSync(parent).sort()).toEqual([path.basename(copy), path.basename(live)].sort());
});
