/**
 * The client's view of a run's epics: each epic's sub-run is asked for its own status and shown
 * beside the parent as counts per state and its pending gates, so a run of 1,000 tickets reads as
 * 10 lines, and a gate deep in the tree is one command away.
 */
import { isEpic } from '../shared/epics';
import { countsText } from '../shared/ticket-counts';
import type { RunStatus, SubRunView, TicketState } from '../shared/types';

/** Epic states in which a sub-run exists (pending and blocked epics have none yet). */
const STARTED: ReadonlySet<TicketState> = new Set(['running', 'accepted', 'escalated', 'failed', 'skipped']);

/** The views of the run's started sub-runs; a sub-run that does not answer is left out. */
export async function subRunViews(
  status: RunStatus,
  statusOf: (runId: string) => Promise<RunStatus>,
): Promise<SubRunView[]> {
  const epics = status.tickets.filter((t) => isEpic(t) && STARTED.has(t.state));
  const views = await Promise.all(
    epics.map(async (t) => {
      try {
        return subRunView(t.id, await statusOf(t.childId));
      } catch {
        return undefined;
      }
    }),
  );
  return views.filter((v): v is SubRunView => v !== undefined);
}

/** A sub-run's status as a view beside its parent. */
export function subRunView(ticketId: string, s: RunStatus): SubRunView {
  const counts: SubRunView['counts'] = {};
  for (const t of s.tickets) counts[t.state] = (counts[t.state] ?? 0) + 1;
  return {
    ticketId,
    runId: s.runId,
    phase: s.phase,
    counts,
    tickets: s.tickets.length,
    pendingGates: s.pendingGates,
    cost: { usd: s.cost.usd, tokens: s.cost.tokens },
  };
}

export { countsText };

/** Ticket counts of the whole tree's sub-runs, summed. */
export function treeCounts(subRuns: readonly SubRunView[]): { tickets: number; counts: SubRunView['counts'] } {
  const counts: SubRunView['counts'] = {};
  let tickets = 0;
  for (const v of subRuns) {
    tickets += v.tickets;
    for (const [k, n] of Object.entries(v.counts) as [TicketState, number][]) counts[k] = (counts[k] ?? 0) + n;
  }
  return { tickets, counts };
}

/**
 * Dollars the run's tree has spent: the run's own cost plus what its running sub-runs spent so
 * far and the run has not booked yet (a finished sub-run's spending is in the parent's cost, and
 * in a budgeted run a running one reports its spending to the parent as it goes).
 */
export function treeCostUsd(status: RunStatus): number {
  const booked = new Map(status.tickets.filter((t) => t.state === 'running').map((t) => [t.id, t.usage.usd]));
  const live = (status.subRuns ?? []).filter((v) => booked.has(v.ticketId));
  return status.cost.usd + live.reduce((sum, v) => sum + Math.max(0, v.cost.usd - booked.get(v.ticketId)!), 0);
}
