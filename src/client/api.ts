/**
 * The programmatic Maestro client: start runs, read their status and results, list them. The
 * CLI is a thin layer over this, and TypeScript users can call it from their own code.
 */
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import { Goal } from '../shared/schemas';
import type { RoleInfo, RunInput, RunResult, RunStatus } from '../shared/types';
import { emptyUsage } from '../shared/usage';
import { DEFAULT_ROLES } from '../shared/roles';
import type { orchestratorWorkflow } from '../workflows';

/** Options of a new run. */
export interface StartRunOptions {
  runId?: string;
  maxParallel?: number;
  maxRevisions?: number;
  roles?: RoleInfo[];
}

/** One line of `maestro list`. */
export interface RunListItem {
  runId: string;
  status: string;
  goal: string;
  startTime: Date;
  closeTime?: Date;
}

/** Thrown for input a person must fix (empty goal, ...); the message says how. */
export class InputError extends Error {
  override name = 'InputError';
}

/** A fresh, sortable, readable run id such as `maestro-20261125-134501-3fa2`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `maestro-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Validates a goal; throws InputError with what to do when it is refused. */
export function validateGoal(goal: string): string {
  const parsed = Goal.safeParse(goal);
  if (!parsed.success) throw new InputError(`Invalid goal: ${parsed.error.issues[0]?.message ?? 'not accepted'}.`);
  return parsed.data;
}

/** Client-side API over a Temporal client. */
export class MaestroClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  /** Starts a run and returns its id (the orchestrator's workflow id). */
  async start(goalText: string, opts: StartRunOptions = {}): Promise<string> {
    const goal = validateGoal(goalText);
    const runId = opts.runId ?? newRunId();
    const input: RunInput = {
      goal,
      roles: opts.roles ?? DEFAULT_ROLES.map((r) => ({ name: r.name, description: r.description })),
      ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
      ...(opts.maxRevisions !== undefined ? { maxRevisions: opts.maxRevisions } : {}),
    };
    await this.client.workflow.start('orchestratorWorkflow', {
      workflowId: runId,
      taskQueue: this.taskQueue,
      args: [input],
      staticSummary: goal.length > 200 ? `${goal.slice(0, 197)}...` : goal,
      staticDetails: goal,
      memo: { goal },
    });
    return runId;
  }

  /** Live status of a running run, or the final status of a closed one. */
  async status(runId: string): Promise<RunStatus> {
    const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') return handle.query(statusQuery);
    if (desc.status.name === 'COMPLETED') return statusFromResult(await handle.result());
    // Failed, cancelled, terminated: ask a worker for the last state, briefly; else describe it.
    try {
      return await this.client.connection.withDeadline(Date.now() + 3000, () => handle.query(statusQuery));
    } catch {
      return closedStatus(runId, desc, await this.failureMessage(runId));
    }
  }

  /** Waits for and returns a run's result; throws with the run's failure message if it failed. */
  async result(runId: string): Promise<RunResult> {
    return this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId).result();
  }

  /** Why a closed run failed, in one line. */
  async failureMessage(runId: string): Promise<string | undefined> {
    try {
      await this.client.workflow.getHandle(runId).result();
      return undefined;
    } catch (err) {
      return describeFailure(err);
    }
  }

  /** Most recent runs first. */
  async list(limit = 20): Promise<RunListItem[]> {
    const items: RunListItem[] = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowType = 'orchestratorWorkflow'` })) {
      items.push({
        runId: wf.workflowId,
        status: wf.status.name,
        goal: typeof wf.memo?.goal === 'string' ? wf.memo.goal : '',
        startTime: wf.startTime,
        closeTime: wf.closeTime,
      });
      if (items.length >= limit) break;
    }
    return items;
  }
}

/** The innermost message of a workflow failure (what went wrong, not the wrappers). */
export function describeFailure(err: unknown): string {
  let e: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (e instanceof Error && e.cause instanceof Error && /ActivityFailure|ChildWorkflowFailure/.test(e.name))
    e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

function statusFromResult(r: RunResult): RunStatus {
  return {
    runId: r.runId,
    goal: r.goal,
    phase: 'completed',
    planSummary: r.plan.summary,
    planAttempts: r.planAttempts,
    tickets: r.tickets,
    pendingGates: [],
    cost: r.cost,
  };
}

function closedStatus(runId: string, desc: WorkflowExecutionDescription, error?: string): RunStatus {
  const memoGoal = desc.memo?.goal;
  return {
    runId,
    goal: typeof memoGoal === 'string' ? memoGoal : '',
    phase: desc.status.name === 'CANCELLED' ? 'cancelled' : 'failed',
    planAttempts: 0,
    tickets: [],
    pendingGates: [],
    cost: { usd: 0, tokens: 0, usage: emptyUsage(), byRole: {} },
    error: error ?? `the run ended as ${desc.status.name}`,
  };
}
