/**
 * A worker's local copies of the repositories its runs work on (issue 20). A run carries its
 * repository as content (RepoSnapshot: bundles in the artifact store), so any worker on any host
 * rebuilds the commit it needs here: one bare repository per base bundle, in the worker's own
 * space, filled once from the bundle and then with each series bundle a snapshot names. Copies
 * are built in a temporary folder and renamed into place, so a worker killed halfway leaves no
 * half-made copy that a later call would trust; two runs on the same repository share the objects
 * and never each other's refs.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../shared/errors';
import { COMMIT_ID, type RepoSnapshot } from '../../shared/repo';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { git, GitError } from './git';
import { ownerAlive, ownerOf, ownerTag } from '../tools/process-owner';

/** Where a worker keeps its repository copies unless told otherwise. */
export function defaultRepoParent(): string {
  return path.join(os.tmpdir(), 'maestro-repos');
}

/** Prefix of copies and private repositories being made; the maker's owner tag follows (process-owner.ts). */
const TMP_PREFIX = 'tmp-';

/**
 * Snapshots this process verified (its copy holds the head, which descends from the base): a
 * copy's commits never change, so only the copy's removal makes one stale (checked by its marker).
 */
const verified = new Map<string, string>();
const MAX_VERIFIED = 10_000;

/** Marker written last into a finished copy: a folder without it is not trusted. */
const READY = 'maestro-ready';

/** A snapshot that cannot be a Maestro snapshot (a hostile or damaged run input): never retried. */
function badSnapshot(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.BadInput, message, nonRetryable: true });
}

/** Refuses snapshots whose ids are not commit ids, before any of them reaches a git command line. */
export function checkSnapshot(s: RepoSnapshot): void {
  const fields: [string, unknown][] = [
    ['base', s?.base],
    ['head', s?.head],
  ];
  for (const [name, v] of fields)
    if (typeof v !== 'string' || !COMMIT_ID.test(v))
      throw badSnapshot(`repository snapshot ${name} is not a commit id (40 hex digits): ${String(v).slice(0, 80)}`);
  if (!s.bundle || !/^[0-9a-f]{64}$/.test(String(s.bundle.sha256)))
    throw badSnapshot('repository snapshot has no base bundle reference');
  if (s.head !== s.base && (!s.series || !/^[0-9a-f]{64}$/.test(String(s.series.sha256))))
    throw badSnapshot(`repository snapshot at ${s.head.slice(0, 12)} has no series bundle for base..head`);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function hasCommit(gitDir: string, commit: string): Promise<boolean> {
  return git(['cat-file', '-e', `${commit}^{commit}`], { gitDir }).then(
    () => true,
    () => false,
  );
}

/** Fetches every ref of the bundle in `ref` into `gitDir` under `refs/maestro/<space>/`. */
async function fetchBundle(store: ArtifactStore, gitDir: string, ref: ArtifactRef, space: string): Promise<void> {
  const file = path.join(gitDir, `incoming-${randomUUID()}.bundle`);
  await writeFile(file, await store.read(ref));
  try {
    await git(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', file, `+refs/*:refs/maestro/${space}/*`], {
      gitDir,
    });
  } catch (err) {
    if (err instanceof GitError)
      throw badSnapshot(`the repository bundle ${ref.sha256.slice(0, 12)} could not be read: ${err.message}`);
    throw err;
  } finally {
    await rm(file, { force: true });
  }
}

/** The bare copy for a base bundle, made on first use (temp folder, then rename). */
async function baseCopy(store: ArtifactStore, s: RepoSnapshot, parent: string): Promise<string> {
  const dir = path.join(parent, `${s.bundle.sha256.slice(0, 32)}.git`);
  if (await exists(path.join(dir, READY))) return dir;
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `${TMP_PREFIX}${ownerTag()}-${randomUUID()}.git`);
  try {
    await git(['init', '--quiet', '--bare', tmp]);
    await fetchBundle(store, tmp, s.bundle, 'base');
    if (!(await hasCommit(tmp, s.base)))
      throw badSnapshot(`the repository bundle does not contain the base commit ${s.base.slice(0, 12)}`);
    await writeFile(path.join(tmp, READY), `${s.bundle.sha256}\n`);
    await rename(tmp, dir).catch((err: NodeJS.ErrnoException) => {
      // Another call made it first: theirs is as good as ours.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!(await exists(path.join(dir, READY)))) {
    // A folder from a worker killed before this scheme finished it: rebuild.
    await rm(dir, { recursive: true, force: true });
    return baseCopy(store, s, parent);
  }
  return dir;
}

/**
 * The git dir (bare, in this worker's space under `parent`) that holds `snapshot.head`, with
 * `base` an ancestor of it. Fails non-retryably when the snapshot is not one a run could have made.
 */
export async function openSnapshot(
  store: ArtifactStore,
  snapshot: RepoSnapshot,
  parent = defaultRepoParent(),
): Promise<string> {
  checkSnapshot(snapshot);
  // Every tool call of a repo ticket opens its snapshot: once verified here, a stat is enough.
  const key = [parent, snapshot.bundle.sha256, snapshot.base, snapshot.head, snapshot.series?.sha256].join('\0');
  const known = verified.get(key);
  if (known && (await exists(path.join(known, READY)))) return known;
  const dir = await baseCopy(store, snapshot, parent);
  if (snapshot.head !== snapshot.base && !(await hasCommit(dir, snapshot.head))) {
    await fetchBundle(store, dir, snapshot.series!, `series/${snapshot.head}`);
    if (!(await hasCommit(dir, snapshot.head)))
      throw badSnapshot(`the series bundle does not contain the commit ${snapshot.head.slice(0, 12)}`);
  }
  // Keep what a snapshot names reachable (gc.auto is off, but a person may run gc by hand). Only a
  // protection: a lock file a killed worker left on this ref must not fail every later merge.
  await git(['update-ref', `refs/maestro/keep/${snapshot.head}`, snapshot.head], { gitDir: dir }).catch(
    () => undefined,
  );
  if (snapshot.head !== snapshot.base) {
    const ancestor = await git(['merge-base', '--is-ancestor', snapshot.base, snapshot.head], {
      gitDir: dir,
      okCodes: [1],
    });
    if (ancestor.code !== 0)
      throw badSnapshot(
        `the snapshot's head ${snapshot.head.slice(0, 12)} does not descend from its base ${snapshot.base.slice(0, 12)}`,
      );
  }
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(key, dir);
  return dir;
}

/**
 * Stores a bundle of `base..head` whose one ref is `refs/heads/<branch>`: the `series` of the
 * snapshot at `head`, and what the client fetches into the user's repository at the end.
 */
export async function storeSeries(
  store: ArtifactStore,
  gitDir: string,
  base: string,
  head: string,
  branch: string,
): Promise<ArtifactRef> {
  if (!COMMIT_ID.test(base) || !COMMIT_ID.test(head) || base === head)
    throw new Error(`storeSeries needs two different commit ids (got ${base} and ${head})`);
  const ref = `refs/heads/${branch}`;
  await git(['check-ref-format', ref]);
  // The ref is set in a private repository that borrows the copy's objects (alternates): runs on
  // one copy never move each other's refs, and a lock file a killed worker left on the copy's
  // refs cannot fail a retried merge. Temp folders of dead workers are removed at worker start (cleanStaleCopies).
  const tmp = path.join(path.dirname(gitDir), `${TMP_PREFIX}${ownerTag()}-${randomUUID()}.git`);
  const file = path.join(tmp, 'outgoing.bundle');
  try {
    await git(['init', '--quiet', '--bare', tmp]);
    await writeFile(path.join(tmp, 'objects', 'info', 'alternates'), `${path.resolve(gitDir, 'objects')}\n`);
    await git(['update-ref', ref, head], { gitDir: tmp });
    await git(['bundle', 'create', '--quiet', file, ref, `^${base}`], { gitDir: tmp });
    return await store.put({ path: `repo/series-${head.slice(0, 12)}.bundle`, content: await readFile(file) });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Removes the temp folders (copies being made, private repositories of a merge) that workers
 * killed meanwhile left under `parent`; a live worker's are kept. Run at worker start.
 */
export async function cleanStaleCopies(parent = defaultRepoParent()): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const n of names) {
    const owner = ownerOf(n, TMP_PREFIX);
    if (owner !== undefined && !ownerAlive(owner)) await rm(path.join(parent, n), { recursive: true, force: true });
  }
}
