/**
 * Ticket counts per state as one line (`45 accepted · 10 running · 45 pending`), shared by the
 * client's epic rows and the parent run's Web UI details, so both read the same way.
 */
import type { TicketState } from './types';

/** States in lifecycle order, as counts are shown. */
const ORDER: readonly TicketState[] = ['accepted', 'running', 'pending', 'escalated', 'failed', 'blocked', 'skipped'];

/** `45 accepted · 10 running · 45 pending` (empty states left out; '' when all are empty). */
export function countsText(counts: Partial<Record<TicketState, number>>): string {
  return ORDER.filter((k) => (counts[k] ?? 0) > 0)
    .map((k) => `${counts[k]} ${k}`)
    .join(' · ');
}
