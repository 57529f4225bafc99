/**
 * `maestro watch` for runs with epics: an epic's row carries its sub-run's counts per state (one
 * line per epic, not a hundred), reads `needs you` while a gate of its sub-run waits, and the
 * sub-runs' gates are listed with the command that decides them through the top run.
 */
import type { GateView, RunStatus } from '../../shared/types';
import { countsText, treeCounts } from '../sub-runs';
import type { TicketLine } from './render';

/** A gate waiting for a person, with the epic whose sub-run it belongs to (absent: the run's own). */
export interface WaitingGate {
  gate: GateView;
  epic?: string;
}

/** The run's own pending gates, then those of its sub-runs. */
export function waitingGates(s: RunStatus): WaitingGate[] {
  return [
    ...s.pendingGates.map((gate) => ({ gate })),
    ...(s.subRuns ?? []).flatMap((v) => v.pendingGates.map((gate) => ({ gate, epic: v.ticketId }))),
  ];
}

/** Rows with each epic's sub-run counts in its title, `needs you` while its sub-run waits. */
export function withEpicCounts(rows: TicketLine[], s: RunStatus): TicketLine[] {
  const byEpic = new Map((s.subRuns ?? []).map((v) => [v.ticketId, v]));
  return rows.map((r) => {
    const v = byEpic.get(r.id);
    if (!v) return r;
    const running = r.state === 'running' || r.state === 'working' || r.state === 'reviewing';
    return {
      ...r,
      state: v.pendingGates.length > 0 && running ? 'needs you' : r.state,
      tokens: running ? Math.max(r.tokens, v.cost.tokens) : r.tokens,
      usd: running ? Math.max(r.usd, v.cost.usd) : r.usd,
      title: `${r.title}  [${v.tickets} tickets: ${countsText(v.counts) || v.phase}]`,
    };
  });
}

/** The line that sums the sub-runs' tickets, or undefined for a run without epics. */
export function epicsLine(s: RunStatus): string | undefined {
  if (!s.subRuns?.length) return undefined;
  const tree = treeCounts(s.subRuns);
  return `Epics: ${tree.tickets.toLocaleString('en-US')} tickets in ${s.subRuns.length} sub-runs: ${countsText(tree.counts)}`;
}
