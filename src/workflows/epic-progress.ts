/**
 * Progress of epics in the parent's Web UI details: a sub-run signals its parent
 * (`maestro.epicProgress`) when its phase or pending gates change and each time another tenth of
 * its tickets has finished; the parent keeps the latest report per epic and shows it on the
 * epic's row, with the sub-run's pending gates and the command that decides them. About a dozen
 * signals per epic, never one per ticket.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { z } from 'zod';
import { GATE_ID_PATTERN } from '../shared/gate-id';
import { epicProgressSignal, type EpicProgress } from '../shared/messages';
import { markdownInline } from '../shared/model-text';
import { countsText } from '../shared/ticket-counts';
import type { TicketState } from '../shared/types';
import type { EpicDetails } from './details';
import { runAudit } from './handlers';
import { onSignal } from './message-handlers';
import type { RunState } from './run-state';

/** Ticket states after which nothing more happens to a ticket. */
const FINISHED: readonly TicketState[] = ['accepted', 'escalated', 'failed', 'blocked', 'skipped'];

/** Wire shape of the progress signal (bounded, so junk cannot grow the parent's state). */
export const EpicProgressPayload = z.object({
  ticketId: z.string().max(16),
  phase: z.string().max(40),
  counts: z.record(z.string().max(20), z.number().int().min(0).max(1000)),
  gates: z.array(z.object({ id: z.string().max(40).regex(GATE_ID_PATTERN), reason: z.string().max(4000) })).max(20),
});

/** What the parent knows of its epics' sub-runs, by epic id (only reports of its own epics are kept). */
export class EpicBoard {
  private readonly reports = new Map<string, EpicProgress>();

  /** Installs the progress handler: invalid payloads are audited and ignored, as are unknown epics. */
  install(state: RunState, publish: () => void): void {
    onSignal(
      epicProgressSignal,
      EpicProgressPayload,
      (p) => {
        if (!state.hasTicket(p.ticketId)) return;
        this.reports.set(p.ticketId, p);
        publish();
      },
      runAudit(state),
    );
  }

  /** What the run's details table shows of its epics: their progress and their sub-runs' gates. */
  details(runId: string): EpicDetails {
    return {
      gateLines: this.gateLines(runId),
      note: (id) => {
        const r = this.reports.get(id);
        return r && progressText(r);
      },
    };
  }

  /** Markdown lines for the sub-runs' pending gates (with the command that decides each). */
  private gateLines(runId: string): string[] {
    return [...this.reports.values()].flatMap((r) =>
      r.gates.map(
        (g) =>
          `> **Waiting for a person in epic ${r.ticketId}:** ${g.id} — ${markdownInline(g.reason)} (\`maestro approve ${runId} --epic ${r.ticketId} --gate ${g.id}\`, or signal \`approve\` on ${runId}/${r.ticketId})`,
      ),
    );
  }
}

/** `45 accepted · 10 running · 45 pending` of a report (its phase before any ticket). */
export function progressText(r: EpicProgress): string {
  return countsText(r.counts) || r.phase;
}

/**
 * The sub-run's side: call on every publish; it signals the parent only when something a person
 * would notice changed (phase, pending gates, another tenth of the tickets finished).
 */
export class EpicReporter {
  private last = '';

  constructor(
    private readonly state: RunState,
    private readonly parentRunId: string,
    private readonly ticketId: string,
  ) {}

  /** Sends a report when it differs from the last one sent in phase, gates or finished tenth. */
  report(): void {
    // The run keeps its counts as tickets move: no pass over the plan on every publish.
    const counts: Partial<Record<TicketState, number>> = {};
    for (const [s, n] of this.state.stateCounts()) if (n > 0) counts[s] = n;
    const total = this.state.ticketCount();
    const finished = FINISHED.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
    const gates = this.state.book.pending().map((g) => ({ id: g.id, reason: g.reason.slice(0, 4000) }));
    const tenth = total > 0 ? Math.floor((finished * 10) / total) : 0;
    const key = JSON.stringify([this.state.phase, total, tenth, gates.map((g) => g.id)]);
    if (key === this.last) return;
    this.last = key;
    const progress: EpicProgress = { ticketId: this.ticketId, phase: this.state.phase, counts, gates };
    // The parent may be gone (cancelled, terminated): the sub-run goes on without telling it.
    void getExternalWorkflowHandle(this.parentRunId)
      .signal(epicProgressSignal, progress)
      .catch(() => undefined);
  }
}
