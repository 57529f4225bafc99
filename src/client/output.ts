/** Where a run's produced files are assembled, shared by `maestro run` and `maestro result`. */
import path from 'node:path';
import { assembleOutput } from '../activities/artifacts/assemble';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { recordChunkReader } from '../activities/records';
import type { MaestroConfig } from '../config';
import { restoreRecords } from '../shared/run-records';
import type { RunResult } from '../shared/types';
import { artifactRoot } from '../workers/activity-deps';

/** Writes the run's files to `out` (default `<MAESTRO_HOME>/output/<runId>`); returns the folder and files. */
export async function assembleRunOutput(
  config: MaestroConfig,
  result: RunResult,
  out?: string,
): Promise<{ outDir: string; files: string[] }> {
  const outDir = path.resolve(out ?? path.join(config.home, 'output', result.runId));
  const store = new FsArtifactStore(artifactRoot(config.home));
  // A large run keeps its manifest in the store (see shared/run-records.ts).
  const { manifest } = await restoreRecords(result, recordChunkReader(store));
  const files = await assembleOutput(store, manifest, outDir);
  return { outDir, files };
}
