/**
 * The worker side of file retrieval without a shared disk: reads byte ranges of blobs from this
 * worker's artifact store (hash-checked by the store) so a client on another machine can
 * assemble a run's output. See shared/artifact-chunks.ts for the protocol and its bounds.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ExportArtifactsInput, type ArtifactChunk } from '../../shared/artifact-chunks';
import { FailureType } from '../../shared/errors';
import type { ArtifactStore } from './store';

/** Creates the export activity over a store. */
export function createArtifactExportActivities(deps: { store: ArtifactStore }) {
  return {
    /** The requested byte ranges, base64-encoded; fails ArtifactMissing when a blob is not here. */
    async readArtifactChunks(input: ExportArtifactsInput): Promise<ArtifactChunk[]> {
      const parsed = ExportArtifactsInput.safeParse(input);
      if (!parsed.success) {
        throw ApplicationFailure.create({
          type: FailureType.BadInput,
          message: `readArtifactChunks: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
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
