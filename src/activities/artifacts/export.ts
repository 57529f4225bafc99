/**
 * The worker side of file retrieval without a shared disk: reads byte ranges of blobs from this
 * worker's artifact store (hash-checked by the store) so a client on another machine can
 * assemble a run's output. See shared/artifact-chunks.ts for the protocol and its bounds. A
 * request names its run, and only blobs that run recorded are served (run-artifacts.ts).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ExportArtifactsInput, type ArtifactChunk } from '../../shared/artifact-chunks';
import { FailureType } from '../../shared/errors';
import { recordedArtifactsOf } from './run-artifacts';
import type { ArtifactStore } from './store';

/** How long a run's list of files is reused for the next requests of the same fetch. */
const RUN_FILES_TTL_MS = 60_000;
const RUN_FILES_CACHED = 32;

/** Reads the hashes of the files a run recorded (default: from its history, run-artifacts.ts). */
export type RunArtifactsLookup = (runId: string) => Promise<ReadonlySet<string>>;

/** Creates the export activity over a store. */
export function createArtifactExportActivities(deps: { store: ArtifactStore; runArtifacts?: RunArtifactsLookup }) {
  const cache = new Map<string, { at: number; files: Promise<ReadonlySet<string>> }>();
  const lookup: RunArtifactsLookup =
    deps.runArtifacts ?? ((runId) => recordedArtifactsOf(Context.current().client, runId, deps.store));
  const filesOf = (runId: string): Promise<ReadonlySet<string>> => {
    const hit = cache.get(runId);
    if (hit && Date.now() - hit.at < RUN_FILES_TTL_MS) return hit.files;
    const files = lookup(runId);
    files.catch(() => cache.delete(runId));
    cache.set(runId, { at: Date.now(), files });
    while (cache.size > RUN_FILES_CACHED) cache.delete(cache.keys().next().value!);
    return files;
  };
  return {
    /**
     * The requested byte ranges, base64-encoded; fails ArtifactMissing when a blob is not here or
     * is not one of the files of the run the request names.
     */
    async readArtifactChunks(input: ExportArtifactsInput): Promise<ArtifactChunk[]> {
      const parsed = ExportArtifactsInput.safeParse(input);
      if (!parsed.success) {
        throw ApplicationFailure.create({
          type: FailureType.BadInput,
          message: `readArtifactChunks: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          nonRetryable: true,
        });
      }
      const recorded = await filesOf(parsed.data.runId);
      const foreign = parsed.data.chunks.filter((c) => !recorded.has(c.sha256));
      if (foreign.length > 0) {
        throw ApplicationFailure.create({
          type: FailureType.ArtifactMissing,
          message: `readArtifactChunks: ${[...new Set(foreign.map((c) => c.path))].slice(0, 5).join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not among the files run ${parsed.data.runId} recorded: a worker serves a run's own files only`,
          nonRetryable: true,
        });
      }
      const blobs = new Map<string, Buffer>();
      const chunks: ArtifactChunk[] = [];
      for (const c of parsed.data.chunks) {
        let blob = blobs.get(c.sha256);
        if (!blob) {
          blob = await deps.store.read({ path: c.path, sha256: c.sha256, bytes: 0, uri: '' });
          blobs.set(c.sha256, blob);
        }
        if (c.offset >= blob.length) {
          throw ApplicationFailure.create({
            type: FailureType.BadInput,
            message: `readArtifactChunks: offset ${c.offset} is past the end of ${c.path} (${blob.length} bytes)`,
            nonRetryable: true,
          });
        }
        chunks.push({
          sha256: c.sha256,
          offset: c.offset,
          base64: blob.subarray(c.offset, c.offset + c.length).toString('base64'),
        });
      }
      return chunks;
    },
  };
}
