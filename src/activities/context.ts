/**
 * Bridges LLM activities to Temporal's activity context: heartbeats while a model call is in
 * flight (so a cancellation reaches us within seconds and a dead worker is noticed), the
 * cancellation signal that aborts the HTTP request, and the call records of earlier attempts
 * (kept in heartbeat details, so a retried activity still reports what the failed ones cost).
 * Outside an activity (unit tests) all of it is a no-op.
 */
import os from 'node:os';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { z } from 'zod';
import { FailureType } from '../shared/errors';
import { CALLS_PER_ATTEMPT, callTimeoutOf } from '../shared/llm-timeouts';
import type { LlmCallKind, LlmCallRecord } from '../shared/types';
import { llmCallObserver } from '../telemetry/observe';
import { addUsage, emptyUsage, usageOfRecord } from '../shared/usage';
import { launchedPid } from '../workers/worker-launch';
import type { LlmProgress } from './llm/stream-call';
import type { StructuredLlm, StructuredRequest, StructuredResponse } from './llm/structured';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Heartbeat interval. The worker's `maxHeartbeatThrottleInterval` decides how often heartbeats
 * reach the server (and so how soon a cancellation arrives); beating more often costs nothing.
 */
export const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Identity of this worker process, as Temporal's default worker identity spells it, with the pid
 * a person started (the launcher's when `maestro worker` relaunched itself).
 */
export const WORKER_IDENTITY = `${launchedPid()}@${os.hostname()}`;

/** Runs `fn` with the activity's abort signal, heartbeating (with `details()`) until it settles. */
export async function withActivityContext<T>(
  fn: (signal: AbortSignal | undefined) => Promise<T>,
  details?: () => unknown,
): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return fn(undefined);
  const beat = () => ctx.heartbeat(details?.());
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    return await fn(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/**
 * The heartbeat details of an LLM activity: its call records (earlier attempts' included) and,
 * while an answer streams, `llm` (tokens so far, tokens/s, when the call started). Plain JSON, so
 * the Web UI shows it as it is and `maestro watch` reads it (client/watch/llm-progress.ts).
 */
export interface LlmHeartbeat {
  calls: LlmCallRecord[];
  llm?: LlmProgress;
}

/** Keeps the latest streaming progress of an activity's calls for its heartbeats. */
export function progressTracker(calls: LlmCallRecord[]): {
  details: () => LlmHeartbeat;
  onProgress: (p: LlmProgress) => void;
  /** The call has its record: its progress leaves the details (`llm` there means a call in flight). */
  settled: () => void;
} {
  let llm: LlmProgress | undefined;
  return {
    // The activity heartbeats every second (withActivityContext): the progress rides along.
    details: () => ({ calls, ...(llm ? { llm } : {}) }),
    onProgress: (p) => {
      llm = { tokens: p.tokens, tokensPerSecond: p.tokensPerSecond, startedAt: p.startedAt };
    },
    settled: () => {
      llm = undefined;
    },
  };
}

/** What a call lost with its worker is billed with (a timed-out call's bill: prompt estimated, streamed tokens). */
export type LostCallBill = Pick<LlmCallRecord, 'promptTokens' | 'cachedTokens' | 'completionTokens' | 'usd'> & {
  estimated: true;
};

/**
 * The streaming call an earlier attempt still had in flight at its last heartbeat (`llm` in the
 * details: its worker died mid-answer, SIGKILL or a crash), as a record of the previous attempt:
 * the provider was paid for its prompt and the tokens it streamed, though no record was written.
 * Undefined when there was none, or when an earlier attempt already booked it (same `startedAt`).
 */
export function lostStreamingCall(
  calls: readonly LlmCallRecord[],
  meta: Omit<LlmCallRecord, keyof LostCallBill | 'model' | 'latencyMs' | 'startedAt' | 'repaired' | 'attempt'>,
  model: string,
  bill: (streamedTokens: number) => LostCallBill,
  ctx: Context | undefined = currentContext(),
): LlmCallRecord | undefined {
  const d: unknown = ctx?.info.heartbeatDetails;
  const attempt = ctx?.info.attempt ?? 1;
  if (attempt < 2 || typeof d !== 'object' || d === null) return undefined;
  const llm = (d as { llm?: unknown }).llm;
  if (typeof llm !== 'object' || llm === null) return undefined;
  const { tokens, startedAt } = llm as { tokens?: unknown; startedAt?: unknown };
  if (typeof startedAt !== 'string' || startedAt.length > 40 || !Number.isFinite(Date.parse(startedAt)))
    return undefined;
  if (calls.some((c) => c.startedAt === startedAt)) return undefined;
  const streamed =
    typeof tokens === 'number' && Number.isFinite(tokens) && tokens >= 0 ? Math.min(Math.floor(tokens), 1e9) : 0;
  return {
    ...meta,
    model,
    ...bill(streamed),
    latencyMs: 0,
    attempt: attempt - 1,
    startedAt,
    repaired: false,
    error: FailureType.LlmUnavailable,
  };
}

const NO_BILL: LostCallBill = { promptTokens: 0, cachedTokens: 0, completionTokens: 0, usd: 0, estimated: true };

/** Call records that earlier attempts of this activity left in their heartbeat details. */
export function earlierCalls(ctx: Context | undefined = currentContext()): LlmCallRecord[] {
  const d: unknown = ctx?.info.heartbeatDetails;
  if (typeof d !== 'object' || d === null || !Array.isArray((d as { calls?: unknown }).calls)) return [];
  const attempt = ctx?.info.attempt ?? 1;
  return (d as { calls: LlmCallRecord[] }).calls.filter((c) => c.attempt < attempt);
}

/** Who makes an LLM call, for its records. */
export interface CallOwner {
  kind: LlmCallKind;
  role: string;
  ticketId?: string;
  /**
   * HTTP calls the run's budget permits allow this activity, over all its attempts (absent: no
   * limit). The call that would pass it is not made: the activity fails with `PermitsUsedUp`.
   */
  callPermits?: number;
}

/**
 * The failure an LLM activity ends with: `err`'s type, message and retry settings with every call
 * this activity made (earlier attempts included) in `details[0].calls`, so the workflow bills them
 * whatever happened after (workflows/failures.ts failedCalls). A cancellation stays one, with the
 * calls in its details; anything else (a bug) stays as it is.
 */
export function failureWithCalls(err: unknown, calls: readonly LlmCallRecord[]): unknown {
  // A cancellation keeps its kind and carries the calls too: a workflow that waits for the
  // activity's cancellation to complete reads them from CancelledFailure.details (issue 21).
  if (err instanceof CancelledFailure) return new CancelledFailure(err.message, [{ calls: [...calls] }]);
  if (!(err instanceof ApplicationFailure)) return err;
  return ApplicationFailure.create({
    type: err.type ?? undefined,
    message: err.message,
    nonRetryable: err.nonRetryable ?? undefined,
    ...(err.nextRetryDelay != null ? { nextRetryDelay: err.nextRetryDelay } : {}),
    details: [{ calls: [...calls] }],
  });
}

/** Refuses the next HTTP call when `made` calls already used every permit. */
export function checkPermits(made: number, owner: Pick<CallOwner, 'callPermits'>, label: string): void {
  if (owner.callPermits === undefined || made < owner.callPermits) return;
  throw ApplicationFailure.create({
    type: FailureType.PermitsUsedUp,
    message: `${label}: used the ${owner.callPermits} LLM call(s) the run's budget allowed; asking the run for more`,
    nonRetryable: true,
  });
}

/**
 * The HTTP timeout of the next call of this attempt: the run's timeout of one call (read back
 * from the attempt's start-to-close, see shared/llm-timeouts.ts), and never more than the
 * attempt has left for the calls it may still make, so the HTTP client cuts a slow call off
 * (and the call is billed) before Temporal times the attempt out.
 */
function callTimeout(ctx: Context | undefined, attemptStart: number, madeThisAttempt: number): number | undefined {
  const attemptMs = ctx?.info.startToCloseTimeoutMs;
  if (!attemptMs) return undefined;
  const left = attemptStart + attemptMs - Date.now() - ATTEMPT_MARGIN_MS;
  const callsLeft = Math.max(1, CALLS_PER_ATTEMPT - madeThisAttempt);
  return Math.max(1_000, Math.min(callTimeoutOf(attemptMs), Math.floor(left / callsLeft)));
}

/** Time kept free at the end of an attempt to record and report its calls. */
const ATTEMPT_MARGIN_MS = 5_000;

/**
 * Fresh activity attempts after an answer that failed validation even after its repair call
 * (default 1: call, repair, then one more call and repair). Transport failures (429, 5xx,
 * timeouts) are not counted: they keep Temporal's retries with backoff.
 */
export const DEFAULT_CONTENT_RETRIES = 1;

/** Activity attempts (this one included) whose answer failed validation after its repair. */
function contentFailures(calls: readonly LlmCallRecord[]): number {
  return new Set(calls.filter((c) => c.repaired && c.error === FailureType.LlmBadOutput).map((c) => c.attempt)).size;
}

/**
 * One structured LLM call inside the current activity: cancellable, heartbeating, and returning
 * the call records of this attempt and every earlier one (`usage` adds them all up). A failure
 * carries the records in its details, so the workflow can book what a failed activity cost. An
 * answer that does not validate (after its repair) is retried in a fresh attempt at most
 * `contentRetries` times; then the failure is final.
 */
export async function callLlm<T extends z.ZodType>(
  llm: Pick<StructuredLlm, 'call'> & Partial<Pick<StructuredLlm, 'lostCallBill'>>,
  req: Omit<StructuredRequest<T>, 'signal' | 'meta' | 'onCall' | 'beforeCall' | 'onProgress'>,
  owner: CallOwner,
  contentRetries = DEFAULT_CONTENT_RETRIES,
): Promise<StructuredResponse<z.infer<T>>> {
  const ctx = currentContext();
  const calls = earlierCalls(ctx);
  const attemptStart = Date.now();
  const observe = llmCallObserver();
  const { callPermits: _permits, ...who } = owner;
  const meta = {
    ...who,
    attempt: ctx?.info.attempt ?? 1,
    ...(ctx ? { taskQueue: ctx.info.taskQueue } : {}),
    workerIdentity: WORKER_IDENTITY,
  };
  // A call the previous attempt lost with its worker (killed mid-stream) is booked once, here.
  const lost = lostStreamingCall(calls, meta, req.model, (n) =>
    llm.lostCallBill ? llm.lostCallBill(req.model, req.prompt, n) : { ...NO_BILL, completionTokens: n },
  );
  if (lost) {
    calls.push(lost);
    observe(lost);
  }
  const before = calls.length;
  const progress = progressTracker(calls);
  try {
    const res = await withActivityContext(
      (signal) =>
        llm.call({
          ...req,
          signal,
          meta,
          beforeCall: () => {
            checkPermits(calls.length, owner, req.label);
            return { timeoutMs: callTimeout(ctx, attemptStart, calls.length - before) };
          },
          onCall: (r) => {
            calls.push(r);
            observe(r);
            progress.settled();
            ctx?.heartbeat(progress.details());
          },
          onProgress: progress.onProgress,
        }),
      progress.details,
    );
    // A stand-in `llm` (tests) may not report calls: then take what it returned.
    for (const r of res.calls ?? [])
      if (!calls.includes(r)) {
        calls.push(r);
        observe(r);
      }
    const usage = calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
    return { ...res, usage: calls.length > 0 ? usage : res.usage, calls };
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    const failures = err.type === FailureType.LlmBadOutput ? contentFailures(calls) : 0;
    const final = failures > contentRetries;
    throw ApplicationFailure.create({
      type: err.type ?? undefined,
      message: final
        ? `${err.message}; gave up after ${failures} attempt(s) with a repair each (content retries: ${contentRetries})`
        : err.message,
      nonRetryable: final || (err.nonRetryable ?? undefined),
      ...(err.nextRetryDelay != null ? { nextRetryDelay: err.nextRetryDelay } : {}),
      details: [{ calls }],
    });
  }
}
