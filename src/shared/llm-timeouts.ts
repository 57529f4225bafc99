/**
 * The time limits of LLM calls, all derived from one setting: the timeout of one HTTP call
 * (MAESTRO_LLM_TIMEOUT_MS, carried to the run as `llmTimeoutMs`). An activity attempt may make a
 * call and a repair, so its start-to-close is two calls plus headroom; its schedule-to-close
 * covers every attempt and the backoff between them. The activity reads its start-to-close back
 * and bounds each HTTP call by what is left of it, so a slow call is cut off (and billed) by the
 * HTTP client, never silently by Temporal. Pure: workflows and activities share it.
 */

/** Timeout of one HTTP call when nothing is configured. */
export const DEFAULT_LLM_TIMEOUT_MS = 120_000;

/**
 * Inactivity limit of a streamed call when nothing is configured (MAESTRO_LLM_IDLE_TIMEOUT_MS): the
 * server sent no chunk for this long. Tokens keep a slow model alive; only silence ends a call.
 */
export const DEFAULT_LLM_IDLE_TIMEOUT_MS = 60_000;

/** HTTP calls one activity attempt may make: the call and one repair. */
export const CALLS_PER_ATTEMPT = 2;

/** Time an attempt needs besides its calls (prompt building, artifact writes, heartbeats). */
export const ATTEMPT_HEADROOM_MS = 30_000;

/** What the schedule-to-close bound needs of a retry policy. */
export interface RetryShape {
  maximumAttempts?: number;
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
}

/** Attempts counted for the schedule-to-close bound when the retry policy sets no limit. */
const UNLIMITED_ATTEMPTS_BOUND = 10;

/** Start-to-close of one attempt for an HTTP timeout of `callTimeoutMs`. */
export function attemptTimeoutMs(callTimeoutMs: number): number {
  return CALLS_PER_ATTEMPT * callTimeoutMs + ATTEMPT_HEADROOM_MS;
}

/** Schedule-to-close: every attempt at its full length plus the backoff waits between them. */
export function activityTimeoutMs(callTimeoutMs: number, retry: RetryShape): number {
  const attempts =
    retry.maximumAttempts && retry.maximumAttempts > 0 ? retry.maximumAttempts : UNLIMITED_ATTEMPTS_BOUND;
  const initial = retry.initialIntervalMs ?? 1_000;
  const coefficient = retry.backoffCoefficient ?? 2;
  const cap = retry.maximumIntervalMs ?? 100 * initial;
  let waits = 0;
  for (let i = 0; i < attempts - 1; i++) waits += Math.min(cap, initial * coefficient ** i);
  return attempts * attemptTimeoutMs(callTimeoutMs) + Math.round(waits);
}

/** The HTTP timeout a run's activity was scheduled for, from its start-to-close. */
export function callTimeoutOf(attemptMs: number): number {
  return Math.max(1_000, Math.floor((attemptMs - ATTEMPT_HEADROOM_MS) / CALLS_PER_ATTEMPT));
}
