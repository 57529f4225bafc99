/**
 * A run's bill as it stands when the run fails or is cancelled, kept in its memo (`bill`), so a
 * closed run shows what it spent even when no worker can replay it for a status query (issue 19:
 * such runs showed $0). Shared: the workflow writes it, the client reads it back (validated:
 * a memo is data like any other payload).
 */
import { z } from 'zod';
import type { CostView } from './types';

const figure = z.number().finite().nonnegative();
const usage = z.object({
  promptTokens: figure,
  cachedTokens: figure,
  completionTokens: figure,
  usd: figure,
  calls: figure,
});

/** The memo field of a closed run's bill. */
export const RunBill = z.object({
  planAttempts: z.number().int().nonnegative(),
  cost: z.object({ usd: figure, tokens: figure, usage, byRole: z.record(z.string(), usage) }),
});
/** A validated run bill. */
export type RunBill = { planAttempts: number; cost: CostView };

/** The bill in a run's memo, when it has a valid one. */
export function billOfMemo(memo: Record<string, unknown> | undefined): RunBill | undefined {
  const parsed = RunBill.safeParse(memo?.bill);
  return parsed.success ? parsed.data : undefined;
}
