/**
 * Bridges activities to Temporal's activity context when there is one: heartbeats while a
 * model call is in flight (so cancellation reaches us and a dead worker is noticed) and the
 * cancellation signal to abort the HTTP request. Outside an activity (unit tests) both are no-ops.
 */
import { Context } from '@temporalio/activity';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeat interval; the workflow's heartbeat timeout must be comfortably larger. */
export const HEARTBEAT_EVERY_MS = 5_000;

/** Runs `fn` with the activity's abort signal, heartbeating until it settles. */
export async function withActivityContext<T>(fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return fn(undefined);
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/** The current activity attempt (1 outside an activity). */
export function activityAttempt(): number {
  return currentContext()?.info.attempt ?? 1;
}
