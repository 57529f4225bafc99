/** Unwrapping of Temporal failures to the error a person should read. */
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  isCancellation,
  TemporalFailure,
  TimeoutFailure,
} from '@temporalio/workflow';
import { FailureType } from '../shared/errors';
import type { LlmCallRecord } from '../shared/types';

/** The innermost cause behind child-workflow and activity failure wrappers. */
export function rootCause(err: unknown): Error {
  let e: unknown = err;
  while ((e instanceof ChildWorkflowFailure || e instanceof ActivityFailure) && e.cause) e = e.cause;
  return e instanceof Error ? e : new Error(String(e));
}

/** Whether an error is a provider configuration error (bad key, unknown model): fatal for a run. */
export function isConfigError(err: Error): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === FailureType.LlmConfig;
}

/** Whether spending was stopped at a budget gate (here or, for a sub-run, at the top run's). */
export function isBudgetStopped(err: Error): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === FailureType.BudgetStopped;
}

/** Whether the model answered but never matched the schema, even after repair calls and retries. */
export function isBadOutput(err: Error): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === FailureType.LlmBadOutput;
}

/**
 * What a failure carries in `details[0]` (an LLM activity's calls, a ticket's `wholeTicket` mark):
 * an ApplicationFailure's or a CancelledFailure's details (an executor attempt cancelled while its
 * CLI worked), or a TimeoutFailure's last heartbeat (an attempt that timed out: its calls as of
 * its last heartbeat, earlier attempts' included).
 */
function firstDetail(err: Error): { calls?: unknown; wholeTicket?: unknown } {
  const first: unknown =
    err instanceof ApplicationFailure || err instanceof CancelledFailure
      ? err.details?.[0]
      : err instanceof TimeoutFailure
        ? err.lastHeartbeatDetails
        : undefined;
  return typeof first === 'object' && first !== null ? first : {};
}

/** Call records a failed LLM activity attached to its failure (`details[0].calls`). */
export function failedCalls(err: Error): LlmCallRecord[] {
  const { calls } = firstDetail(err);
  return Array.isArray(calls) ? (calls as LlmCallRecord[]) : [];
}

/**
 * What a ticket child fails with: its failure as the run reads it (type and message of the root
 * cause) with every LLM call the ticket made attached, its successful activities' included
 * (`details[0].calls`, marked `wholeTicket`), so the run bills them too: only the failed
 * activity's calls travel with an activity failure. A cancellation stays as it is, and so does
 * anything but a Temporal failure (a bug's plain Error fails the workflow task, which is retried
 * once the code is fixed, not the workflow).
 */
export function ticketFailure(err: unknown, made: readonly LlmCallRecord[]): unknown {
  if (isCancellation(err) || !(err instanceof TemporalFailure)) return err;
  const cause = rootCause(err);
  return ApplicationFailure.create({
    type: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined,
    message: cause.message,
    nonRetryable: true,
    details: [{ calls: [...made, ...failedCalls(cause)], wholeTicket: true }],
    cause: err,
  });
}

/** The calls a ticket child's failure lists when it lists every call of the ticket (see ticketFailure). */
export function wholeTicketCalls(err: Error): LlmCallRecord[] | undefined {
  return firstDetail(err).wholeTicket === true ? failedCalls(err) : undefined;
}
