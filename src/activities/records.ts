/**
 * Stores one chunk of a run's large result parts (plan, manifest, call records) in the artifact
 * store, so the run's result can carry a reference instead (see shared/run-records.ts).
 */
import type { ArtifactRef } from '../shared/types';
import type { RecordPart } from '../shared/run-records';
import type { ArtifactStore } from './artifacts/store';
import type { ActivityDeps } from './deps';

/** Reads one stored chunk back (for `restoreRecords`). */
export function recordChunkReader(store: ArtifactStore): (ref: ArtifactRef) => Promise<unknown[]> {
  return async (ref) => JSON.parse((await store.read(ref)).toString('utf8')) as unknown[];
}

/** Input of `storeRunRecords`: one chunk of one part. */
export interface StoreRunRecordsInput {
  runId: string;
  part: RecordPart;
  chunk: number;
  items: unknown[];
}

/** Creates the record-keeping activities over the given dependencies. */
export function createRecordActivities(deps: Pick<ActivityDeps, 'store'>) {
  return {
    /** Reads one stored chunk back, for a parent run whose epic's sub-run stored its records. */
    async loadRunRecords(input: { ref: ArtifactRef }): Promise<unknown[]> {
      return recordChunkReader(deps.store)(input.ref);
    },

    async storeRunRecords(input: StoreRunRecordsInput): Promise<ArtifactRef> {
      return deps.store.put({
        path: `run-records/${input.runId}/${input.part}-${input.chunk}.json`,
        content: JSON.stringify(input.items),
      });
    },
  };
}
