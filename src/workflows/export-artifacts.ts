/**
 * A short workflow that carries byte ranges of a run's files from the worker that stored them to
 * a client without access to its disk (`maestro run`/`result` on another machine or outside the
 * worker's container). The client starts one per bounded batch on the run's task queue; the
 * result is the chunks. See shared/artifact-chunks.ts.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import type { ArtifactChunk, ExportArtifactsInput } from '../shared/artifact-chunks';
import { NON_RETRYABLE_FAILURES } from '../shared/errors';

const { readArtifactChunks } = proxyActivities<MaestroActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

/** Reads the requested byte ranges on a worker of this task queue and returns them. */
export async function exportArtifactsWorkflow(input: ExportArtifactsInput): Promise<ArtifactChunk[]> {
  return readArtifactChunks(input);
}
