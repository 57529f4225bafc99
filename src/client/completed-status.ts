/**
 * The status of a completed run. A large run keeps its audit log in the artifact store and
 * returns references instead (shared/run-records.ts), so the status read from its result alone
 * would show no decisions at all: this reads the log back (fetching the chunks from the run's
 * worker when this machine's store lacks them) and, when that is impossible, says so instead of
 * showing an empty log as if nobody had decided anything.
 */
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { recordChunkReader } from '../activities/records';
import { restoreRecords } from '../shared/run-records';
import type { ArtifactRef, RunResult, RunStatus } from '../shared/types';
import { artifactRoot } from '../workers/activity-deps';
import { statusFromResult } from './run-views';

/** What `completedRunStatus` needs: the result, the local MAESTRO_HOME, and how to bring missing chunks. */
export interface CompletedStatusInput {
  result: RunResult;
  home: string;
  /** Brings chunks the local store lacks from the run's worker (see fetch-artifacts.ts). */
  fetchMissing: (refs: ArtifactRef[]) => Promise<unknown>;
}

/** The completed run's status with its whole audit log, or a note saying why the log is not shown. */
export async function completedRunStatus(input: CompletedStatusInput): Promise<RunStatus> {
  const { result } = input;
  const refs = result.records?.audit;
  if (!refs || refs.length === 0) return statusFromResult(result);
  try {
    await input.fetchMissing(refs);
    const read = recordChunkReader(new FsArtifactStore(artifactRoot(input.home)));
    // Only the audit is needed here: the other parts stay in the store.
    const restored = await restoreRecords({ ...result, records: { audit: refs } }, read);
    return statusFromResult(restored);
  } catch (err) {
    return {
      ...statusFromResult(result),
      auditUnavailable: `this run's audit log (${refs.length} stored chunk(s)) could not be read here: ${(err as Error).message}`,
    };
  }
}
