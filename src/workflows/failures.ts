/** Unwrapping of Temporal failures to the error a person should read. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
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

/** Call records a failed LLM activity attached to its failure (`details[0].calls`). */
export function failedCalls(err: Error): LlmCallRecord[] {
  if (!(err instanceof ApplicationFailure)) return [];
  const first: unknown = err.details?.[0];
  const calls = typeof first === 'object' && first !== null ? (first as { calls?: unknown }).calls : undefined;
  return Array.isArray(calls) ? (calls as LlmCallRecord[]) : [];
}
