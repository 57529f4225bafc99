/**
 * Small real-git helpers for merge tests: a repository made from files, its base bundle in a
 * store, and the two cache operations a merge needs (open a snapshot, store a series).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git, gitText } from '../../src/activities/repo/git';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import type { RepoSnapshot } from '../../src/shared/repo';

/** A git repository with `files` committed on `main`; returns its path and commit. */
export async function makeRepo(files: Record<string, string>, dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-'))) {
  await git(['init', '-q', '-b', 'main', dir]);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), content);
  }
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '-q', '-m', 'base'], { cwd: dir, env: { GIT_AUTHOR_DATE: '@1700000000 +0000', GIT_COMMITTER_DATE: '@1700000000 +0000' } });
  return { dir, head: await gitText(['rev-parse', 'HEAD'], { cwd: dir }) };
}

/** The base snapshot of a repository: its bundle in the store. */
export async function packRepo(dir: string, store: ArtifactStore): Promise<RepoSnapshot> {
  const head = await gitText(['rev-parse', 'HEAD'], { cwd: dir });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-bundle-')), 'base.bundle');
  await git(['bundle', 'create', '-q', file, 'HEAD', 'main'], { cwd: dir });
  const bundle = await store.put({ path: 'base.bundle', content: await readFile(file) });
  return { bundle, base: head, head };
}

/** A bare git dir holding the snapshot's head (fresh each call: a stand-in for cache.ts openSnapshot). */
export async function openFresh(store: ArtifactStore, s: RepoSnapshot, parent = os.tmpdir()): Promise<string> {
  const gitDir = mkdtempSync(path.join(parent, 'maestro-open-'));
  await git(['init', '-q', '--bare', gitDir]);
  for (const ref of [s.bundle, s.series]) {
    if (!ref) continue;
    const file = path.join(gitDir, `${ref.sha256}.bundle`);
    writeFileSync(file, await store.read(ref));
    await git(['fetch', '-q', file, '+refs/*:refs/maestro-fetched/*'], { gitDir });
    await rm(file);
  }
  return gitDir;
}

/** `base..head` as a bundle in the store, under refs/heads/<branch> (stand-in for cache.ts storeSeries; its git dir is the caller's own). */
export async function storeSeriesFor(store: ArtifactStore, gitDir: string, base: string, head: string, branch: string) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'maestro-series-'));
  const file = path.join(work, 'series.bundle');
  await git(['update-ref', `refs/heads/${branch}`, head], { gitDir });
  await git(['bundle', 'create', '-q', file, `refs/heads/${branch}`, `^${base}`], { gitDir });
  const out = await store.put({ path: 'series.bundle', content: await readFile(file) });
  await rm(work, { recursive: true, force: true });
  return out;
}
