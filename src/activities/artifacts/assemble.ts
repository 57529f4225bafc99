/**
 * Writes a run's produced files into one output folder. Files are written in manifest order, so
 * when two tickets produce the same path the later ticket (in dependency order) wins.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestEntry } from '../../shared/types';
import type { ArtifactStore } from './store';

/** Assembles `manifest` into `outDir`; returns the absolute paths written. */
export async function assembleOutput(
  store: ArtifactStore,
  manifest: readonly ManifestEntry[],
  outDir: string,
): Promise<string[]> {
  const root = path.resolve(outDir);
  const latest = new Map<string, ManifestEntry>();
  for (const entry of manifest) latest.set(entry.path, entry);
  const written: string[] = [];
  for (const entry of latest.values()) {
    const target = path.resolve(root, entry.path);
    if (!target.startsWith(root + path.sep)) throw new Error(`refusing to write ${entry.path} outside ${root}`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await store.read(entry));
    written.push(target);
  }
  return written.sort();
}
