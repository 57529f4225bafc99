/**
 * How a ticket's and a run's outcome is named, in one place for the workflow (result status, Web
 * UI details) and every client view (summary, status, watch, `--json`), so no view can call work
 * a success that did not succeed: a ticket accepted at its gate over failing checks (approved
 * anyway, by a person, `--yes --accept-failing` or a timeout policy) is never counted as accepted
 * on its merits, and a run with such a ticket is `partial`, never `completed`.
 */
import type { TicketView } from './types';

/** What is read of a ticket to name its outcome. */
type OutcomeFields = Pick<TicketView, 'id' | 'state' | 'acceptedOverFailures'>;

/** The state label of a ticket accepted over failing checks (shown instead of `accepted`). */
export const ACCEPTED_OVER_FAILURES = 'accepted over failing checks';

/** Whether a ticket was accepted on its merits (its review accepted it), not over its failures. */
export function acceptedOnMerits(t: OutcomeFields): boolean {
  return t.state === 'accepted' && t.acceptedOverFailures !== true;
}

/** The ticket's state as people read it: `accepted over failing checks` or the state itself. */
export function ticketStateLabel(t: Pick<TicketView, 'state' | 'acceptedOverFailures'>): string {
  return t.state === 'accepted' && t.acceptedOverFailures === true ? ACCEPTED_OVER_FAILURES : t.state;
}

/** Ids of the tickets accepted over failing checks, in plan order. */
export function acceptedOverFailureIds(tickets: readonly OutcomeFields[]): string[] {
  return tickets.filter((t) => t.state === 'accepted' && t.acceptedOverFailures === true).map((t) => t.id);
}

/** A finished run's status from its tickets: `completed` only when every ticket was accepted on its merits. */
export function runStatusOf(tickets: readonly OutcomeFields[]): 'completed' | 'partial' {
  return tickets.every(acceptedOnMerits) ? 'completed' : 'partial';
}

/**
 * `3/4 tickets accepted`, or, when some were accepted over failing checks,
 * `2/4 tickets accepted on their merits, 1 accepted over failing checks (T3)`.
 */
export function acceptedText(tickets: readonly OutcomeFields[]): string {
  const over = acceptedOverFailureIds(tickets);
  const merits = tickets.filter(acceptedOnMerits).length;
  if (over.length === 0) return `${merits}/${tickets.length} tickets accepted`;
  return `${merits}/${tickets.length} tickets accepted on their merits, ${over.length} ${ACCEPTED_OVER_FAILURES} (${over.join(', ')})`;
}
