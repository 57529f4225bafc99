/**
 * Statuses of runs that no worker can be asked about any more (finished or failed), and the one
 * line that says why a run failed. Split from api.ts so the client class stays about calls.
 */
import { CancelledFailure, WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { RunResult, RunStatus } from '../shared/types';
import { emptyUsage } from '../shared/usage';
import { billOfMemo } from '../shared/run-bill';

/** Whether a run's result failed because the run was cancelled (it then reads as cancelled, never as failed). */
export function isCancelledRun(err: unknown): boolean {
  return err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure;
}

/** The innermost message of a workflow failure (what went wrong, not the wrappers); `the run was cancelled` for a cancellation. */
export function describeFailure(err: unknown): string {
  if (isCancelledRun(err)) return 'the run was cancelled';
  let e: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (e instanceof Error && e.cause instanceof Error && /ActivityFailure|ChildWorkflowFailure/.test(e.name))
    e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The status a completed run's result implies. */
export function statusFromResult(r: RunResult): RunStatus {
  return {
    runId: r.runId,
    goal: r.goal,
    phase: r.status === 'stopped' ? 'stopped' : 'completed',
    outcome: r.status,
    planSummary: r.plan.summary,
    planAttempts: r.planAttempts,
    ...(r.replans ? { replans: r.replans } : {}),
    tickets: r.tickets,
    pendingGates: [],
    cost: r.cost,
    audit: r.audit ?? [],
    ...(r.toolCalls ? { toolCalls: r.toolCalls } : {}),
  };
}

/** How a closed run that did not complete ended: `cancelled`, else `failed` (terminated, timed out too). */
export function closedOutcome(desc: WorkflowExecutionDescription): 'cancelled' | 'failed' {
  return desc.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
}

/**
 * What is known of a closed run that did not complete, when no worker answers for it: its goal
 * and, from the bill it left in its memo (shared/run-bill.ts), what it spent.
 */
export function closedStatus(runId: string, desc: WorkflowExecutionDescription, error?: string): RunStatus {
  const memoGoal = desc.memo?.goal;
  const bill = billOfMemo(desc.memo);
  return {
    runId,
    goal: typeof memoGoal === 'string' ? memoGoal : '',
    phase: closedOutcome(desc),
    outcome: closedOutcome(desc),
    planAttempts: bill?.planAttempts ?? 0,
    tickets: [],
    pendingGates: [],
    cost: bill?.cost ?? { usd: 0, tokens: 0, usage: emptyUsage(), byRole: {} },
    audit: [],
    error: error ?? `the run ended as ${desc.status.name}`,
  };
}
