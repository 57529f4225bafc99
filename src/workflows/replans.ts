/**
 * Why the Boss plans again, in words a person watching the run can act on: the status carries one
 * entry per re-plan as it happens (so `maestro run` and `maestro watch` print it at once, not
 * only when the run fails), and a failed plan call's message loses its "will retry" once its
 * retries are used up.
 */
import type { ReplanView } from '../shared/types';

/** Re-plans kept in the status (the newest; `--max-replans` and rejections bound them anyway). */
export const MAX_REPLANS_SHOWN = 50;
/** Characters of one reason in the status (the whole text is in the run's failure and history). */
export const MAX_REPLAN_REASON_CHARS = 1_000;

/** The promise of another try that an LLM failure's message ends with while its activity retries. */
const RETRY_PROMISE =
  /;\s*(?:will retry(?: with backoff)?|retrying once|retrying after \d+ ms as the server asked)\s*$/;

/**
 * A failed plan call's message once Temporal gave up on it: the trailing "; will retry" (true
 * while the activity was retrying, false now) becomes what happened.
 */
export function settledFailure(message: string): string {
  return RETRY_PROMISE.test(message) ? `${message.replace(RETRY_PROMISE, '')}; gave up after its retries` : message;
}

/** The reason for a re-plan after the plan call failed (`badOutput`: its answers never matched the schema). */
export function callFailedReason(message: string, badOutput: boolean): string {
  const what = badOutput ? "the Boss's answer did not match the plan schema" : "the Boss's plan call failed";
  return `${what}: ${settledFailure(message)}`;
}

/** The reason for a re-plan after a plan that was invalid. */
export function invalidPlanReason(problems: readonly string[]): string {
  return `the previous plan was invalid: ${problems.join('; ')}`;
}

/** Appends a re-plan, bounded in count and length. */
export function addReplan(list: ReplanView[], attempt: number, reason: string): void {
  const text = reason.length > MAX_REPLAN_REASON_CHARS ? `${reason.slice(0, MAX_REPLAN_REASON_CHARS - 1)}…` : reason;
  list.push({ attempt, reason: text });
  if (list.length > MAX_REPLANS_SHOWN) list.splice(0, list.length - MAX_REPLANS_SHOWN);
}
