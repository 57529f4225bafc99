/**
 * Bounds what junk messages can add to a run's audit log (issue 8 item 10): anyone who can signal
 * a run can send invalid signals forever, and each used to add an entry to the status and the
 * result. Repeats of an ignored message (same action, sender, gate, ticket and reason) are counted
 * on the first entry; past a cap of distinct ignored entries, the rest are only counted on one
 * summary entry. Decisions and other real entries are never folded.
 */
import type { AuditEntry } from '../shared/types';

/** Distinct ignored-message entries an audit log keeps before it only counts them. */
export const MAX_IGNORED_ENTRIES = 50;

/** Action of the one entry that counts ignored messages past the cap. */
export const IGNORED_MORE = 'ignored-more';

const same = (a: Omit<AuditEntry, 'at'>, b: Omit<AuditEntry, 'at'>) =>
  a.action === b.action && a.by === b.by && a.gate === b.gate && a.ticketId === b.ticketId && a.error === b.error;

/**
 * Folds an ignored-message entry into the log when it repeats one already there or the cap is
 * reached; returns false when the entry should be added as usual.
 */
export function foldIgnored(audit: AuditEntry[], entry: Omit<AuditEntry, 'at'>, at: string): boolean {
  if (!entry.action.startsWith('ignored-')) return false;
  const ignored = audit.filter((e) => e.action.startsWith('ignored-'));
  const earlier =
    ignored.find((e) => same(e, entry)) ?? (ignored.length >= MAX_IGNORED_ENTRIES ? more(audit, at) : undefined);
  if (!earlier) return false;
  earlier.repeats = (earlier.repeats ?? 0) + 1;
  earlier.lastAt = at;
  return true;
}

function more(audit: AuditEntry[], at: string): AuditEntry {
  let entry = audit.find((e) => e.action === IGNORED_MORE);
  if (!entry) {
    entry = {
      at,
      by: 'maestro',
      action: IGNORED_MORE,
      comment: `more than ${MAX_IGNORED_ENTRIES} different invalid messages: further ones are only counted (repeats)`,
    };
    audit.push(entry);
  }
  return entry;
}

/** Budget raises an audit log lists one by one; later ones are counted on the last of them. */
export const MAX_RAISE_ENTRIES = 20;

/**
 * Folds a valid budget raise into the last listed one once MAX_RAISE_ENTRIES are listed (a raise
 * is valid however often it is sent, so nothing else bounds them): that entry counts it and
 * states the budget now in force. Returns false when the entry should be added as usual.
 */
export function foldRaise(audit: AuditEntry[], entry: Omit<AuditEntry, 'at'>, at: string): boolean {
  if (entry.action !== 'raise-budget') return false;
  const raises = audit.filter((e) => e.action === 'raise-budget');
  const last = raises.at(-1);
  if (!last || raises.length < MAX_RAISE_ENTRIES) return false;
  last.repeats = (last.repeats ?? 0) + 1;
  last.lastAt = at;
  if (entry.comment !== undefined) last.comment = entry.comment;
  return true;
}
