/**
 * Which files a run recorded, read from Temporal (issue 19 item 7.7): a worker serves a blob to a
 * client only when the run the client names lists it, so naming a hash is not enough to read any
 * file of the store. A run's files are the artifact references in its result (with the chunks of a
 * result kept in the store, shared/run-records.ts) and in its completed children's results: the
 * same places the client reads them from (output.ts, partial-result.ts). Signals, updates and
 * inputs are never trusted, and a run whose first execution was started with carried-over state
 * (`continued`, which only Maestro's continue-as-new may write) is refused.
 */
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { FailureType } from '../../shared/errors';
import { recordChunkReader } from '../records';
import type { ArtifactStore } from './store';

/** Most continue-as-new links followed back to a run's first execution. */
const MAX_CHAIN = 100;
/** Most values visited in one run's results (a 2,000-file manifest is far below it). */
const MAX_NODES = 2_000_000;
const SHA256 = /^[0-9a-f]{64}$/;

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.ArtifactMissing, message, nonRetryable: true });
}

/** The hashes of every file run `runId` recorded; fails (non-retryable) when it is not a Maestro run. */
export async function recordedArtifactsOf(client: Client, runId: string, store: ArtifactStore): Promise<Set<string>> {
  let events: temporal.api.history.v1.IHistoryEvent[];
  try {
    events = (await client.workflow.getHandle(runId).fetchHistory()).events ?? [];
  } catch (err) {
    // The worker's client (over its NativeConnection) reports gRPC NOT_FOUND (5) as a ServiceError.
    const notFound = err instanceof WorkflowNotFoundError || (err as { code?: unknown }).code === 5;
    if (notFound) throw refused(`there is no run ${runId}`);
    throw err;
  }
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  if (started?.workflowType?.name !== 'orchestratorWorkflow') throw refused(`${runId} is not a Maestro run`);
  await checkFirstExecution(client, runId, started);

  const hashes = new Set<string>();
  const records: { sha256: string; path: string; bytes: number; uri: string }[] = [];
  let nodes = 0;
  const walk = (v: unknown, inRecords: boolean): void => {
    if (++nodes > MAX_NODES || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, inRecords));
    const o = v as Record<string, unknown>;
    if (typeof o.sha256 === 'string' && SHA256.test(o.sha256) && typeof o.path === 'string') {
      hashes.add(o.sha256);
      if (inRecords) records.push(o as (typeof records)[number]);
    }
    for (const [k, x] of Object.entries(o)) walk(x, inRecords || k === 'records');
  };
  const converter = client.options.loadedDataConverter;
  for (const e of events) {
    const result =
      e.workflowExecutionCompletedEventAttributes?.result ?? e.childWorkflowExecutionCompletedEventAttributes?.result;
    if (!result?.payloads?.length) continue;
    walk(await decodeFromPayloadsAtIndex(converter, 0, result.payloads).catch(() => undefined), false);
  }
  // A large result keeps its manifest in stored chunks: the files they list are the run's too.
  const read = recordChunkReader(store);
  for (const ref of records) walk(await read(ref).catch(() => undefined), false);
  return hashes;
}

/** Refuses a run whose first execution a client started with carried-over (forgeable) state. */
async function checkFirstExecution(
  client: Client,
  runId: string,
  latest: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes,
): Promise<void> {
  let first = latest;
  for (let i = 0; first.continuedExecutionRunId && i < MAX_CHAIN; i++) {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: runId, runId: first.continuedExecutionRunId },
      maximumPageSize: 1,
    });
    const attrs = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!attrs) break;
    first = attrs;
  }
  const input = first.input?.payloads?.length
    ? await decodeFromPayloadsAtIndex<unknown>(client.options.loadedDataConverter, 0, first.input.payloads)
    : undefined;
  if (first.continuedExecutionRunId || (typeof input === 'object' && input !== null && 'continued' in input)) {
    throw refused(
      `run ${runId} was started with carried-over state by a client, not by Maestro: its files are not served`,
    );
  }
}
