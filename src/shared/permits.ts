/**
 * Wire shapes of the internal budget-permit protocol between a budgeted run and its ticket
 * children (signals `maestro.spendRequest`, `maestro.spendGrant`, `maestro.spendReport`). Anyone
 * who can signal a workflow can send these, so both sides parse them with these schemas and
 * ignore (and, in the run, audit) whatever does not fit: a negative or NaN usage can never lower
 * the recorded spend, and a malformed payload can never fail a workflow task.
 *
 * One permit is one HTTP call to a model. A child asks for the calls an activity may need (its
 * attempts times a call and a repair); the run grants as many as fit under the cap (at least one
 * when nothing else is in flight), and the activity makes no call beyond its grant.
 */
import { z } from 'zod';
import { permitCount, permitNonce, permitSeq, spendGrantSchema } from './permit-grant';

export { MAX_PERMITS_PER_REQUEST } from './permit-grant';

/** Largest token or dollar figure a report may carry (beyond it, it is junk, not a bill). */
const MAX_FIGURE = 1e12;
const figure = z.number().finite().nonnegative().max(MAX_FIGURE);

/** A usage as a child reports it: every figure finite and not negative. */
export const ReportedUsage = z
  .object({
    promptTokens: figure,
    cachedTokens: figure,
    completionTokens: figure,
    usd: figure,
    calls: z.number().int().nonnegative().max(MAX_FIGURE),
  })
  .strict();
/** A validated reported usage. */
export type ReportedUsage = z.infer<typeof ReportedUsage>;

const ticketId = z.string().min(1).max(64);
const seq = permitSeq();
const count = permitCount();

/**
 * A child asks for permit batch `seq` (1, 2, 3, ... per child) of `calls` HTTP calls. Children
 * recorded before per-call permits send no `calls`: their permit covers one whole activity.
 */
export const SpendRequest = z.object({ ticketId, seq, calls: count.optional() }).strict();
/** A validated spend request. */
export type SpendRequest = z.infer<typeof SpendRequest>;

/** The run grants a permit batch (see permit-grant.ts). */
export const SpendGrant = spendGrantSchema();
/** A validated grant. */
export type SpendGrant = z.infer<typeof SpendGrant>;

/** Most roles a sub-run's spending report may name (far above any team). */
export const MAX_REPORTED_ROLES = 64;

/**
 * An epic's sub-run's whole spending so far, by role. Cumulative: each report restates it, so the
 * parent books only what is new (a lost or late report loses nothing and counts nothing twice).
 */
export const SpentByRole = z
  .record(z.string().min(1).max(64), ReportedUsage)
  .refine((r) => Object.keys(r).length <= MAX_REPORTED_ROLES, `at most ${MAX_REPORTED_ROLES} roles`);
/** A validated sub-run spending report. */
export type SpentByRole = z.infer<typeof SpentByRole>;

/**
 * A child reports what the calls of permit batch `seq` cost once the activity that used it
 * ended (successfully or not). Older children send no `seq`: their oldest open batch is meant.
 * An epic's sub-run (which draws on its parent's permits, see workflows/tree-budget.ts) adds
 * `spentByRole`, its whole spending so far; the parent then books that, not `usage`. A batch that
 * covered a ticket's work and its review reports the review's calls apart, in `reviewUsage`.
 * `nonce` echoes the grant's (see permit-grant.ts): a report of a grant with a nonce needs it.
 */
export const SpendReport = z
  .object({
    ticketId,
    kind: z.enum(['work', 'review']),
    usage: ReportedUsage,
    seq: seq.optional(),
    reviewUsage: ReportedUsage.optional(),
    spentByRole: SpentByRole.optional(),
    nonce: permitNonce().optional(),
  })
  .strict();
/** A validated spend report. */
export type SpendReport = z.infer<typeof SpendReport>;
