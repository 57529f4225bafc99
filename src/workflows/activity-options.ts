/**
 * Named activity option profiles. LLM calls can take minutes, so they heartbeat and get timeouts
 * derived from the HTTP timeout of one call; retries are Temporal's (the openai client makes one attempt) and stop
 * at once for failures that retrying cannot fix. A role may bring its own queue and retries.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../shared/errors';
import { activityTimeoutMs, attemptTimeoutMs, DEFAULT_LLM_TIMEOUT_MS } from '../shared/llm-timeouts';
import { DEFAULT_SANDBOX_TIMEOUT_MS } from '../shared/tool-checks';
import type { AgentSettings } from '../shared/tools';
import type { RoleInfo } from '../shared/types';

/** Retries of LLM activities unless a role brings its own (Temporal's retries; the client makes one attempt). */
const LLM_RETRY: RetryPolicy = {
  initialInterval: 2_000,
  backoffCoefficient: 2,
  maximumInterval: 60_000,
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

/**
 * Start-to-close and schedule-to-close of an LLM activity, derived from the HTTP timeout of one
 * call (see shared/llm-timeouts.ts) and the activity's retry policy.
 */
export function llmTimeouts(
  callTimeoutMs: number | undefined,
  retry: RetryPolicy = LLM_RETRY,
): Pick<ActivityOptions, 'startToCloseTimeout' | 'scheduleToCloseTimeout'> {
  const call = callTimeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  const ms = (d: RetryPolicy['initialInterval']) => (typeof d === 'number' ? d : undefined);
  return {
    startToCloseTimeout: attemptTimeoutMs(call),
    scheduleToCloseTimeout: activityTimeoutMs(call, {
      maximumAttempts: retry.maximumAttempts,
      initialIntervalMs: ms(retry.initialInterval),
      backoffCoefficient: retry.backoffCoefficient,
      maximumIntervalMs: ms(retry.maximumInterval),
    }),
  };
}

/**
 * Options for every LLM-calling activity (timeouts for the default HTTP timeout; a run with its
 * own `llmTimeoutMs` overrides them per call with `llmTimeouts`). Activities heartbeat every
 * second and workers flush heartbeats at least every 2 s (`maxHeartbeatThrottleInterval`), so a
 * cancelled run aborts its HTTP requests within seconds and a dead worker's call is retried
 * elsewhere after 15 s.
 */
export const LLM_ACTIVITY: ActivityOptions = {
  ...llmTimeouts(DEFAULT_LLM_TIMEOUT_MS),
  heartbeatTimeout: '15 seconds',
  retry: LLM_RETRY,
};

/** The retry policy of a role: its settings over the LLM defaults, non-retryable types kept. */
export function roleRetryPolicy(role: RoleInfo | undefined): RetryPolicy {
  const r = role?.retry ?? {};
  return {
    ...LLM_ACTIVITY.retry,
    ...(r.initialIntervalMs !== undefined ? { initialInterval: r.initialIntervalMs } : {}),
    ...(r.backoffCoefficient !== undefined ? { backoffCoefficient: r.backoffCoefficient } : {}),
    ...(r.maximumIntervalMs !== undefined ? { maximumInterval: r.maximumIntervalMs } : {}),
    ...(r.maximumAttempts !== undefined ? { maximumAttempts: r.maximumAttempts } : {}),
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  };
}

/** Options of a role's work activity: its own task queue and retry policy, when configured. */
export function roleActivityOptions(role: RoleInfo | undefined): Pick<ActivityOptions, 'taskQueue' | 'retry'> {
  return {
    ...(role?.taskQueue ? { taskQueue: role.taskQueue } : {}),
    ...(role?.retry ? { retry: roleRetryPolicy(role) } : {}),
  };
}

/**
 * Options of one tool call: long enough for the sandbox's wall-clock limit plus set-up, a short
 * heartbeat timeout (a killed worker's call moves on quickly) and a few retries; the tool's own
 * failures are results, not activity failures, so retries only cover infrastructure problems.
 */
export function toolActivityOptions(role: RoleInfo | undefined, settings: AgentSettings): ActivityOptions {
  const commandMs = settings.limits?.timeoutMs ?? DEFAULT_SANDBOX_TIMEOUT_MS;
  return {
    ...(role?.taskQueue ? { taskQueue: role.taskQueue } : {}),
    startToCloseTimeout: commandMs + 120_000,
    heartbeatTimeout: '15 seconds',
    retry: { ...LLM_ACTIVITY.retry, maximumAttempts: 3 },
  };
}
