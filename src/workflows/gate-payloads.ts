/**
 * Wire shapes of the public messages people send a run (`approve`/`reject` signals, the `decide`
 * update, `raiseBudget`), validated with zod before anything changes, and the failure validators
 * throw: a readable message, never retried, never failing the run.
 */
import { z } from 'zod';
import { GATE_ID_PATTERN, GateId, isGateKind } from '../shared/gate-id';

/**
 * Wire shape of `approve`/`reject` payloads; unknown keys are refused so typos are noticed.
 * `gate` takes a kind (`plan`) or a gate id (`plan#2`); `gateId` takes only an id.
 */
export const DecisionPayload = z
  .object({
    gate: z
      .string()
      .max(40)
      .refine(
        (g) => isGateKind(g) || GATE_ID_PATTERN.test(g),
        'give a gate kind (plan, ticket, final or budget) or a gate id such as plan#2 or ticket:T3#5',
      )
      .optional(),
    gateId: GateId.optional(),
    ticketId: z.string().max(16).optional(),
    by: z.string().trim().min(1).max(200).optional(),
    comment: z.string().max(4000).optional(),
    action: z.enum(['retry', 'skip', 'abort']).optional(),
  })
  .strict();
/** A valid `approve`/`reject` payload. */
export type DecisionPayload = z.infer<typeof DecisionPayload>;

/** Wire shape of the `decide` update. */
export const DecidePayload = DecisionPayload.omit({ action: true })
  .extend({ decision: z.enum(['approve', 'reject', 'retry', 'skip', 'abort']) })
  .strict();
/** A valid `decide` payload. */
export type DecidePayload = z.infer<typeof DecidePayload>;

/** Wire shape of `raiseBudget`. */
export const RaiseBudgetPayload = z
  .object({
    usd: z.number().finite().positive().max(1_000_000).optional(),
    tokens: z.number().int().positive().max(1e12).optional(),
    by: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.usd !== undefined || b.tokens !== undefined, 'give usd (dollars) and/or tokens to add');

// Thrown by validators: a readable message, never retried, never fails the workflow.
export { badInput } from './message-handlers';

/** First problem of a zod error as one readable sentence. */
export function zodProblem(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid payload';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}
