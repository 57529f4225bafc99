/** Unwrapping of Temporal failures to the error a person should read. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/errors';

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
