/**
 * A cancelled run read back from code. Temporal gives a cancelled workflow no result, so
 * `result()` used to throw `WorkflowFailedError: Workflow canceled` while `maestro result` saved
 * the accepted files. This builds the same thing the CLI shows, as a result object: the accepted
 * tickets' files from the run's history (partial-result.ts, no worker needed), and its tickets,
 * gates, audit and cost from its last state (the status query, when a worker answers; else the
 * bill the run left in its memo).
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import type { RunResult, RunStatus } from '../shared/types';
import { acceptedFromHistory } from './partial-result';
import { closedStatus } from './run-views';

/**
 * What `result()` returns for a cancelled run: the fields of a RunResult, with `status:
 * 'cancelled'`. `manifest` lists the files of the tickets accepted before the cancellation
 * (`saveFiles` writes them); `tickets`, `gates`, `audit` and `cost` are the run's last state.
 * A cancelled run made no final report and returns no records: `report` is a summary written
 * here, `plan.tickets` and `calls` are empty (see `tickets` and `cost`).
 */
export interface CancelledRunResult extends Omit<RunResult, 'status' | 'repo' | 'records'> {
  /** The run was cancelled (`maestro cancel`, the Web UI, or `cancel()`). */
  status: 'cancelled';
  /** Ids of the tickets accepted before the cancellation, in the order they were accepted. */
  acceptedTicketIds: string[];
}

/** What `result()` gives back: a finished run's own result, or what a cancelled run had accepted. */
export type MaestroRunResult = RunResult | CancelledRunResult;

/** How long a worker may take to answer the status query of a closed run before the memo's bill is used. */
const QUERY_DEADLINE_MS = 3000;

/** The result of cancelled run `runId` (described as `desc`), from its history and last state. */
export async function cancelledRunResult(
  client: Client,
  runId: string,
  desc: WorkflowExecutionDescription,
): Promise<CancelledRunResult> {
  const accepted = await acceptedFromHistory(client, runId);
  let last: RunStatus;
  try {
    const handle = client.workflow.getHandle(runId);
    last = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
  } catch {
    last = closedStatus(runId, desc);
  }
  const n = accepted.ticketIds.length;
  const total = last.tickets.length;
  const acceptedOverFailures = last.tickets.filter((t) => t.acceptedOverFailures).map((t) => t.id);
  const ids = [...accepted.ticketIds].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1)) || x.localeCompare(y));
  const missing = last.tickets.filter((t) => !accepted.ticketIds.includes(t.id)).map((t) => `${t.id} (${t.state})`);
  const result: CancelledRunResult = {
    runId,
    goal: last.goal,
    status: 'cancelled',
    plan: { summary: last.planSummary ?? '', tickets: [] },
    planAttempts: last.planAttempts,
    gates: last.pendingGates,
    audit: last.audit,
    calls: [],
    ...(last.toolCalls ? { toolCalls: last.toolCalls } : {}),
    report: {
      headline: `Cancelled: ${n}${total > 0 ? ` of ${total}` : ''} ticket${(total || n) === 1 ? '' : 's'} accepted before the run was cancelled`,
      summary:
        n === 0
          ? 'No ticket was accepted before the run was cancelled, so it has no files.'
          : `The files of tickets ${ids.join(', ')} are in the manifest.` +
            (missing.length > 0 ? ` Missing: the files of ${missing.join(', ')}.` : ''),
      followUps: [],
    },
    tickets: last.tickets,
    manifest: accepted.manifest,
    cost: last.cost,
    acceptedTicketIds: accepted.ticketIds,
    ...(acceptedOverFailures.length > 0 ? { acceptedOverFailures } : {}),
  };
  return result;
}
