/**
 * A repository as a run carries it, for tests of the worker side (issue 20): a folder committed
 * with git, bundled into an artifact store, and the RepoSnapshot that names the bundle; the
 * worker's own copy is then opened with cache.ts `openSnapshot`, as the activities do.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import { openSnapshot } from '../../src/activities/repo/cache';
import { gitText } from '../../src/activities/repo/git';
import type { RepoTree } from '../../src/activities/repo/tree';
import type { RepoSnapshot } from '../../src/shared/repo';

/** Bundles the repository at `dir` (its HEAD) into `store`; the snapshot's head is its base. */
export async function snapshotOf(store: ArtifactStore, dir: string): Promise<RepoSnapshot> {
  const head = await gitText(['rev-parse', 'HEAD'], { cwd: dir });
  const file = path.join(dir, '..', `${path.basename(dir)}-${head.slice(0, 8)}.bundle`);
  await gitText(['bundle', 'create', '--quiet', file, '--all'], { cwd: dir });
  const bundle = await store.put({ path: 'repo/base.bundle', content: readFileSync(file) });
  rmSync(file, { force: true });
  return { bundle, base: head, head };
}

/** The worker's copy of a snapshot (under `parent`) as a tree the tools work on. */
export async function openTree(store: ArtifactStore, snapshot: RepoSnapshot, parent: string): Promise<RepoTree> {
  return { gitDir: await openSnapshot(store, snapshot, parent), head: snapshot.head };
}
