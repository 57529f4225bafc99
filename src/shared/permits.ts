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

/** Most calls one request may ask for; far above what any retry policy needs. */
export const MAX_PERMITS_PER_REQUEST = 100;

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
const seq = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(1).max(MAX_PERMITS_PER_REQUEST);

/**
 * A child asks for permit batch `seq` (1, 2, 3, ... per child) of `calls` HTTP calls. Children
 * recorded before per-call permits send no `calls`: their permit covers one whole activity.
 */
export const SpendRequest = z.object({ ticketId, seq, calls: count.optional() }).strict();
/** A validated spend request. */
export type SpendRequest = z.infer<typeof SpendRequest>;

/**
 * The run grants batch `seq` with `calls` HTTP calls. Without `calls` (runs recorded before
 * per-call permits) the grant covers one activity, whatever it spends.
 */
export const SpendGrant = z.object({ seq, calls: count.optional() }).strict();
/** A validated grant. */
export type SpendGrant = z.infer<typeof SpendGrant>;

/**
 * A child reports what the calls of permit batch `seq` cost once the activity that used it
 * ended (successfully or not). Older children send no `seq`: their oldest open batch is meant.
 */
export const SpendReport = z
  .object({ ticketId, kind: z.enum(['work', 'review']), usage: ReportedUsage, seq: seq.optional() })
  .strict();
/** A validated spend report. */
export type SpendReport = z.infer<typeof SpendReport>;
