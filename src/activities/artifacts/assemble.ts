/**
 * Writes a run's produced files into one output folder. Files are written in manifest order, so
 * when two tickets produce the same path the later ticket (in dependency order) wins.
 *
 * File safety: every path is checked against the produced-file rule and against the others (a
 * file `a` and a file `a/b` cannot both exist) before anything is written; folders are created
 * one segment at a time and never followed when they are symlinks; files are opened with
 * O_NOFOLLOW, so a symlink planted in an existing output folder cannot redirect a write.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { filePathClashes, filePathProblem } from '../../shared/file-path';
import type { ManifestEntry } from '../../shared/types';
import type { ArtifactStore } from './store';

/** A manifest that cannot be written safely; nothing was written when it is thrown. */
export class UnsafeOutputError extends Error {
  override name = 'UnsafeOutputError';
}

/** Assembles `manifest` into `outDir`; returns the absolute paths written. */
export async function assembleOutput(
  store: ArtifactStore,
  manifest: readonly ManifestEntry[],
  outDir: string,
): Promise<string[]> {
  const root = path.resolve(outDir);
  const latest = new Map<string, ManifestEntry>();
  for (const entry of manifest) latest.set(entry.path, entry);
  const problems = [...latest.keys()].flatMap((p) => {
    const problem = filePathProblem(p);
    return problem ? [problem] : [];
  });
  problems.push(...filePathClashes([...latest.keys()]));
  if (problems.length > 0) {
    throw new UnsafeOutputError(
      `refusing to assemble the files into ${root}: ${problems.join('; ')}. Nothing was written.`,
    );
  }
  await mkdir(root, { recursive: true });
  const written: string[] = [];
  for (const entry of latest.values()) {
    const target = await safeTarget(root, entry.path);
    const content = await store.read(entry);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    let file;
    try {
      file = await open(target, flags, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP')
        throw new UnsafeOutputError(`refusing to write ${entry.path}: ${target} is a symbolic link.`);
      throw err;
    }
    try {
      await file.writeFile(content);
    } finally {
      await file.close();
    }
    written.push(target);
  }
  return written.sort();
}

/** The absolute target of `rel` in `root`, creating its folders; refuses symlinks and files in the way. */
async function safeTarget(root: string, rel: string): Promise<string> {
  const parts = rel.split('/');
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const stat = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!stat) await mkdir(dir);
    else if (stat.isSymbolicLink()) throw new UnsafeOutputError(`refusing to write ${rel}: ${dir} is a symbolic link.`);
    else if (!stat.isDirectory())
      throw new UnsafeOutputError(`refusing to write ${rel}: ${dir} is a file, not a folder.`);
  }
  return path.join(root, ...parts);
}
