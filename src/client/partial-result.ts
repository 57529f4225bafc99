/**
 * What a cancelled run had accepted. A cancelled orchestrator returns no result, but each
 * accepted ticket's child workflow completed with its outcome (file references included), and
 * those completions are in the run's history, which Temporal keeps without any worker running.
 */
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { ManifestEntry, TicketOutcome } from '../shared/types';

/** Accepted tickets of a closed run (from its history) and their files, in completion order. */
export interface AcceptedWork {
  runId: string;
  ticketIds: string[];
  manifest: ManifestEntry[];
}

/** Reads the accepted tickets' outcomes from the history of run `runId`. */
export async function acceptedFromHistory(client: Client, runId: string): Promise<AcceptedWork> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const ticketIds: string[] = [];
  const manifest: ManifestEntry[] = [];
  for (const event of history.events ?? []) {
    const done = event.childWorkflowExecutionCompletedEventAttributes;
    if (!done?.result?.payloads?.length) continue;
    const outcome = await decodeFromPayloadsAtIndex<TicketOutcome>(
      client.options.loadedDataConverter,
      0,
      done.result.payloads,
    ).catch(() => undefined);
    if (!outcome || outcome.status !== 'accepted' || !Array.isArray(outcome.artifacts)) continue;
    ticketIds.push(outcome.ticketId);
    for (const a of outcome.artifacts) manifest.push({ ...a, ticketId: outcome.ticketId });
  }
  return { runId, ticketIds, manifest };
}
