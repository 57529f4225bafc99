/**
 * Where a run's produced files are assembled, shared by `maestro run` and `maestro result`. A
 * person's own files are never overwritten silently: an empty `--out`, a file where a folder
 * should be and a folder that already holds other files are refused (the last unless `--force`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { assembleOutput, UnsafeOutputError } from '../activities/artifacts/assemble';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import type { ArtifactStore } from '../activities/artifacts/store';
import { recordChunkReader } from '../activities/records';
import type { MaestroConfig } from '../config';
import { runIdProblem } from '../shared/run-id';
import { restoreRecords } from '../shared/run-records';
import type { ArtifactRef, ManifestEntry, RunResult } from '../shared/types';
import { artifactRoot } from '../workers/activity-deps';
import { InputError } from './errors';

/** How to write: where (`out`, default `<MAESTRO_HOME>/output/<runId>`) and whether existing files may be replaced. */
export interface OutputOptions {
  out?: string;
  force?: boolean;
  /** Brings files the local store lacks (a worker on another disk; see fetch-artifacts.ts). */
  fetchMissing?: (artifacts: ArtifactRef[]) => Promise<void>;
}

/** A whole run result (its large parts may be in the store), not a partial one from a history. */
function isFullResult(result: Pick<RunResult, 'runId' | 'manifest'>): result is RunResult {
  return 'records' in result;
}

/** The output folder for `runId`, refusing what cannot be a folder before a run even starts. */
export function outputDir(config: MaestroConfig, runId: string | undefined, out: string | undefined): string {
  if (out !== undefined) {
    if (out.trim() === '')
      throw new InputError('--out is empty: give the folder to write the files to, e.g. --out site.');
    return path.resolve(out);
  }
  const problem = runId === undefined ? undefined : runIdProblem(runId);
  if (problem || runId === undefined)
    throw new InputError(`The run id cannot name a folder (${problem ?? 'none'}); choose one with --out DIR.`);
  return path.join(config.home, 'output', runId);
}

/**
 * Refuses `dir` when it is a file, or a folder with files that `manifest` would not write exactly
 * as they are (unless `force`). A missing or empty folder, or one holding exactly this run's
 * files (a second `maestro result`), is fine.
 */
export async function checkOutputDir(
  dir: string,
  opts: { force?: boolean; manifest?: readonly ManifestEntry[]; store?: ArtifactStore } = {},
): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory())
    throw new InputError(
      `--out ${dir} is a file; --out takes a folder (created when missing). Choose a folder path, e.g. ${dir}-files.`,
    );
  if (opts.force) return;
  const byPath = new Map((opts.manifest ?? []).map((e) => [e.path, e]));
  const foreign: string[] = [];
  for await (const rel of filesUnder(dir)) {
    const entry = byPath.get(rel);
    const same =
      entry && opts.store
        ? (await opts.store.read(entry)).equals(await readFile(path.join(dir, rel)).catch(() => Buffer.alloc(0)))
        : false;
    if (!same) foreign.push(rel);
    if (foreign.length > 5) break; // enough to show; a big folder is never walked to the end
  }
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ', …' : '');
  throw new InputError(
    `${dir} already has files (${shown}); Maestro does not overwrite them. Choose a new or empty folder with --out, or pass --force to write over files of the same name.`,
  );
}

/** Relative paths (with `/`) of the files and links under `dir`, folders first-come, lazily. */
async function* filesUnder(dir: string, rel = ''): AsyncGenerator<string> {
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((x, y) => x.name.localeCompare(y.name));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* filesUnder(dir, p);
    else yield p;
  }
}

/** Writes the run's files (see OutputOptions); returns the folder and files. */
export async function assembleRunOutput(
  config: MaestroConfig,
  result: Pick<RunResult, 'runId' | 'manifest'>,
  opts: OutputOptions = {},
): Promise<{ outDir: string; files: string[] }> {
  const outDir = outputDir(config, result.runId, opts.out);
  const store = new FsArtifactStore(artifactRoot(config.home));
  // A large run keeps its manifest in the store (see shared/run-records.ts): on another disk than
  // the worker's, those chunks are fetched first, like the files.
  if (isFullResult(result) && result.records) await opts.fetchMissing?.(Object.values(result.records).flat());
  const manifest = isFullResult(result)
    ? (await restoreRecords(result, recordChunkReader(store))).manifest
    : result.manifest;
  await opts.fetchMissing?.(manifest);
  await checkOutputDir(outDir, { force: opts.force, manifest, store });
  try {
    const files = await assembleOutput(store, manifest, outDir);
    return { outDir, files };
  } catch (err) {
    if (err instanceof UnsafeOutputError) throw new InputError(err.message);
    throw err;
  }
}
