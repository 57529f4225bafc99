/**
 * Re-opening a dependency after a failing check: when the Boss's review of a ticket (typically a
 * Tester's) finds that a check failed because of a dependency's output, the run sends that
 * accepted dependency back for another round with the check's evidence as feedback, and runs the
 * testing ticket again once the dependency is accepted again. Bounded by `maxReopens` per
 * re-opened ticket; past it (or when re-opening would leave other work on stale output) the
 * testing ticket goes to a ticket gate instead, with the reason. Every re-open is audited.
 */
import { patched } from '@temporalio/workflow';
import type { Ticket } from '../shared/schemas';
import { failedCheck } from '../shared/tool-checks';
import type { ToolCallRecord } from '../shared/tools';
import type { ReopenRequest, TicketInput } from '../shared/types';
import type { RunState } from './run-state';

/** Patch id: a failing check of a testing ticket re-opens the dependency the Boss named. */
export const REOPEN_PATCH = 'maestro-reopen-on-failing-check-1';

/**
 * The review's re-open requests a ticket may pass on: those naming one of its own dependencies,
 * each once. A model that names another ticket (or itself) cannot send unrelated work back.
 */
export function reopenRequests(
  input: Pick<TicketInput, 'dependencies'>,
  requested: readonly ReopenRequest[] | null | undefined,
): ReopenRequest[] {
  const deps = new Set(input.dependencies.map((d) => d.ticketId));
  const seen = new Set<string>();
  return (requested ?? []).filter((r) => deps.has(r.ticketId) && !seen.has(r.ticketId) && seen.add(r.ticketId));
}

/** Patch id: only a check that ran and failed may re-open a dependency (issue 19, item 2.5). */
export const REOPEN_NEEDS_FAILED_CHECK_PATCH = 'maestro-reopen-needs-failed-check-1';

/**
 * The re-opens an attempt may trigger: none unless one of its checks ran and failed on its merits.
 * A call the checking agent got wrong (a garbage path, bad arguments) or a tool its worker lacks
 * (no browser) is that agent's or that worker's problem, never evidence against a dependency,
 * whatever the review says. Histories recorded before this rule keep their re-opens.
 */
export function reopenOnFailedCheck(
  calls: readonly ToolCallRecord[],
  requests: readonly ReopenRequest[],
): ReopenRequest[] {
  if (requests.length === 0 || calls.some(failedCheck)) return [...requests];
  return patched(REOPEN_NEEDS_FAILED_CHECK_PATCH) ? [] : [...requests];
}

/** What the scheduler hands over to re-open a tested ticket. */
export interface ReopenContext {
  state: RunState;
  /** The testing ticket whose review asked for the re-open. */
  ticket: Ticket;
  requests: readonly ReopenRequest[];
  maxReopens: number;
  /** Where the scheduler keeps the feedback a relaunched ticket starts with. */
  feedback: Map<string, string>;
}

/**
 * Re-opens the named dependencies and puts the testing ticket back to pending. Returns undefined
 * when it did, else why not (the testing ticket then goes to a ticket gate with that reason).
 */
export function reopenDependencies(ctx: ReopenContext): string | undefined {
  if (!patched(REOPEN_PATCH)) return 'this run was started before failing checks re-opened tickets';
  const refused = reopenRefusal(ctx);
  if (refused !== undefined) return refused;
  apply(ctx);
  return undefined;
}

/** Why the requested re-opens cannot happen (undefined: they can). Pure: reads the run's state only. */
export function reopenRefusal(ctx: Omit<ReopenContext, 'feedback'>): string | undefined {
  const { state, ticket, requests, maxReopens } = ctx;
  if (maxReopens === 0) return 're-opening tickets is off for this run (--max-reopens 0)';
  for (const r of requests) {
    if (state.stateOf(r.ticketId) !== 'accepted')
      return `${r.ticketId} is ${state.stateOf(r.ticketId) ?? 'unknown'}, not accepted, so it cannot be re-opened`;
    const count = state.reopenedCount(r.ticketId);
    if (count >= maxReopens)
      return `${r.ticketId} was already re-opened ${count} time(s) (the limit, --max-reopens ${maxReopens}) and ${ticket.id}'s check still fails`;
    const started = state
      .dependentsOf(r.ticketId)
      .filter((d) => d.id !== ticket.id && d.state !== 'pending')
      .map((d) => `${d.id} (${d.state})`);
    if (started.length > 0) return `re-opening ${r.ticketId} would leave ${started.join(', ')} built on its old output`;
  }
  return undefined;
}

/** Re-opens the requested tickets (audited) and puts the testing ticket back to pending. */
function apply(ctx: ReopenContext): void {
  const { state, ticket, requests, maxReopens } = ctx;
  for (const r of requests) {
    const evidence = r.feedback.trim();
    const n = state.reopenedCount(r.ticketId) + 1;
    ctx.feedback.set(
      r.ticketId,
      `A ticket that tests your output found a problem (re-open ${n} of at most ${maxReopens}); fix it so the check passes:\n${evidence}`,
    );
    const note = `re-opened (${n} of ${maxReopens}): ${ticket.id}'s check failed: ${clip(evidence, 300)}`;
    state.reopen(r.ticketId, note, evidence);
    state.book.log({ by: 'boss', action: 'reopen', ticketId: r.ticketId, comment: note });
  }
  const names = requests.map((r) => r.ticketId).join(', ');
  state.mark(ticket.id, 'pending', `runs again once ${names} ${requests.length > 1 ? 'are' : 'is'} accepted again`);
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
