/**
 * Keeps a run's result under Temporal's payload limit: when its plan, manifest and call records
 * are large, they go to the artifact store chunk by chunk and the result carries references.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import {
  chunksOf,
  partItems,
  RECORD_PARTS,
  recordsTooLarge,
  withoutStoredParts,
  type RunRecords,
} from '../shared/run-records';
import type { RunResult } from '../shared/types';

const { storeRunRecords } = proxyActivities<MaestroActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/** The result as the run returns it: large parts stored, references in `records`. */
export async function offloadLargeParts(result: RunResult): Promise<RunResult> {
  if (!recordsTooLarge(result)) return result;
  const records: RunRecords = {};
  for (const part of RECORD_PARTS) {
    const chunks = chunksOf(partItems(result, part));
    records[part] = await Promise.all(
      chunks.map((items, chunk) => storeRunRecords({ runId: result.runId, part, chunk, items })),
    );
  }
  return withoutStoredParts(result, records);
}
