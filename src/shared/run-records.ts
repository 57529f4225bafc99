/**
 * Claim check for the large parts of a run's result (issue 8 item 10). At the schema maxima a
 * result (a 100-ticket plan, thousands of call records, 2,000 produced files) passes Temporal's
 * 2 MB payload limit. When the plan, the manifest, the call records, the gates and the audit log
 * together are larger than
 * `INLINE_RECORDS_LIMIT`, they are written to the artifact store in chunks (each activity input
 * far below the limit) and the result carries references (`records`) instead; `restoreRecords`
 * puts them back for readers that have the store. Pure: the workflow and the client share it.
 */
import type { ArtifactRef, RunResult } from './types';

/** Bytes (as JSON) the plan, manifest, call records, gates and audit may take inline in a result. */
export const INLINE_RECORDS_LIMIT = 256 * 1024;

/** Bytes (as JSON) of one stored chunk, so each activity input stays far below 2 MB. */
export const CHUNK_BYTES = 256 * 1024;

/** A part of the result that may be kept in the artifact store. */
export type RecordPart = 'plan' | 'manifest' | 'calls' | 'gates' | 'audit';

/** Every part that may be kept in the store, in the order they are stored. */
export const RECORD_PARTS: readonly RecordPart[] = ['plan', 'manifest', 'calls', 'gates', 'audit'];

/** References to the stored chunks of each offloaded part (in order). */
export type RunRecords = Partial<Record<RecordPart, ArtifactRef[]>>;

/** The items of one part, as they are stored (the plan's tickets; its summary stays inline). */
export function partItems(result: RunResult, part: RecordPart): unknown[] {
  return part === 'plan' ? result.plan.tickets : result[part];
}

/** Whether the result's large parts should go to the store. */
export function recordsTooLarge(result: RunResult, limit = INLINE_RECORDS_LIMIT): boolean {
  return JSON.stringify(RECORD_PARTS.map((p) => partItems(result, p))).length > limit;
}

/** Splits a part's items into chunks of about `CHUNK_BYTES` (an item is never split). */
export function chunksOf(items: readonly unknown[]): unknown[][] {
  const chunks: unknown[][] = [];
  let chunk: unknown[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = JSON.stringify(item).length;
    if (chunk.length > 0 && bytes + n > CHUNK_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += n;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The result without the stored parts: the plan keeps its summary, lists become empty. */
export function withoutStoredParts(result: RunResult, records: RunRecords): RunResult {
  return {
    ...result,
    ...(records.plan ? { plan: { summary: result.plan.summary, tickets: [] } } : {}),
    ...(records.manifest ? { manifest: [] } : {}),
    ...(records.calls ? { calls: [] } : {}),
    ...(records.gates ? { gates: [] } : {}),
    ...(records.audit ? { audit: [] } : {}),
    records,
  };
}

/** The full result again, from the stored chunks read with `read`. */
export async function restoreRecords(
  result: RunResult,
  read: (ref: ArtifactRef) => Promise<unknown[]>,
): Promise<RunResult> {
  const records = result.records;
  if (!records) return result;
  const load = async (refs: ArtifactRef[] | undefined) =>
    refs ? (await Promise.all(refs.map(read))).flat() : undefined;
  const [plan, manifest, calls, gates, audit] = await Promise.all(RECORD_PARTS.map((p) => load(records[p])));
  return {
    ...result,
    ...(plan ? { plan: { summary: result.plan.summary, tickets: plan as RunResult['plan']['tickets'] } } : {}),
    ...(manifest ? { manifest: manifest as RunResult['manifest'] } : {}),
    ...(calls ? { calls: calls as RunResult['calls'] } : {}),
    ...(gates ? { gates: gates as RunResult['gates'] } : {}),
    ...(audit ? { audit: audit as RunResult['audit'] } : {}),
  };
}
