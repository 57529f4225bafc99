/**
 * Small real-git helpers for merge tests: a repository made from files, its base bundle in a
 * store, and the two cache operations a merge needs (open a snapshot, store a series).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git, gitText } from '../../src/activities/repo/git';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import type { RepoSnapshot } from '../../src/shared/repo';

/** A git repository with `files` committed on `main`; returns its path and commit. */
export async function makeRepo(
  files: Record<string, string>,
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-')),
) {
  await git(['init', '-q', '-b', 'main', dir]);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), content);
  }
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '-q', '-m', 'base'], {
    cwd: dir,
    env: { GIT_AUTHOR_DATE: '@1700000000 +0000', GIT_COMMITTER_DATE: '@1700000000 +0000' },
  });
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
