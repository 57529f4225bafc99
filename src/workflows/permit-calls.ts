/**
 * What a ticket workflow needs of the run's call permits (how many to ask for, the activity field,
 * the "used up" failure), apart from budget.ts: a workflow evaluates every module it imports each
 * time it starts, and the run's permit bookkeeping (with its signal-payload schemas) is the
 * orchestrator's, not the child's.
 */
import { ApplicationFailure, type RetryPolicy } from '@temporalio/workflow';
import { FailureType } from '../shared/errors';
import { CALLS_PER_ATTEMPT } from '../shared/llm-timeouts';
import { MAX_PERMITS_PER_REQUEST } from '../shared/permit-grant';
import { roleRetryPolicy } from './activity-options';

/** Calls a permitted activity asks for: its attempts times a call and a repair (bounded). */
export function permitsWanted(policy: RetryPolicy): number {
  const maxAttempts = policy.maximumAttempts ?? 0; // 0: unlimited
  return Math.min(MAX_PERMITS_PER_REQUEST, maxAttempts > 0 ? maxAttempts * CALLS_PER_ATTEMPT : 10);
}

/**
 * Calls a ticket's batch asks for before its work: the work activity's and its review's (the
 * Boss's reviews keep the default retry policy), so a ticket that stays within them needs no
 * other batch (patches.ts TICKET_GRANT_PATCH). The run's first grant and the child ask alike.
 */
export function attemptPermitsWanted(workCalls: number): number {
  return Math.min(MAX_PERMITS_PER_REQUEST, workCalls + permitsWanted(roleRetryPolicy(undefined)));
}

/** Turns of an agent attempt when its role sets none (shared/tools.ts DEFAULT_MAX_TURNS, not imported: see above). */
export const AGENT_DEFAULT_TURNS = 12;

/**
 * Calls an agent attempt asks for: one per turn (a turn's retries use calls of the same batch;
 * the loop asks again when they run out), bounded like every request.
 */
export function agentPermitsWanted(maxTurns: number | undefined): number {
  return Math.min(MAX_PERMITS_PER_REQUEST, maxTurns ?? AGENT_DEFAULT_TURNS);
}

/** The activity input field of a call allowance, when there is one. */
export function callPermitsField(callPermits: number | undefined): { callPermits?: number } {
  return callPermits !== undefined ? { callPermits } : {};
}

/** Whether an activity stopped because it used every call its permits allowed. */
export function isPermitsUsedUp(err: Error): boolean {
  return err instanceof ApplicationFailure && err.type === FailureType.PermitsUsedUp;
}
