/**
 * The parts of the budget-permit wire shapes (permits.ts) that a ticket child needs, apart:
 * a workflow evaluates its module graph on every start, so a ticket child that imported all of
 * permits.ts would build every permit schema each time (about 0.8 ms of the workflow thread per
 * ticket), while most tickets never receive a grant (their first batch comes in their input).
 * The grant schema is built when the first grant arrives.
 */
import { z } from 'zod';

/** Most calls one request may ask for; far above what any retry policy needs. */
export const MAX_PERMITS_PER_REQUEST = 100;

/** A permit batch number: 1, 2, 3, ... per child. */
export const permitSeq = () => z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A number of calls asked for or granted. */
export const permitCount = () => z.number().int().min(1).max(MAX_PERMITS_PER_REQUEST);

/**
 * A grant's nonce: a random id (workflow-safe uuid4) the run gives each grant and its report must
 * echo, so nobody who merely guesses a batch number can book spending on it or close it early.
 * Absent in grants of runs recorded before nonces.
 */
export const permitNonce = () => z.string().min(1).max(64);

/**
 * The run grants batch `seq` with `calls` HTTP calls. Without `calls` (runs recorded before
 * per-call permits) the grant covers one activity, whatever it spends.
 */
export const spendGrantSchema = () =>
  z.object({ seq: permitSeq(), calls: permitCount().optional(), nonce: permitNonce().optional() }).strict();
