/**
 * The programmatic Maestro client: start runs, read their status and results, list them. The
 * CLI is a thin layer over this, and TypeScript users can call it from their own code.
 */
import { randomBytes } from 'node:crypto';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../shared/constants';
import {
  decideUpdate,
  raiseBudgetSignal,
  statusQuery,
  type DecideRequest,
  type DecideResult,
  type RaiseBudgetSignal,
} from '../shared/messages';
import { Goal } from '../shared/schemas';
import { runIdProblem } from '../shared/run-id';
import type { Budget, RoleInfo, RunInput, RunResult, RunStatus } from '../shared/types';
import { emptyUsage } from '../shared/usage';
import { loadConfig, runRoles } from '../config';
import type { orchestratorWorkflow } from '../workflows';
import { buildListPlan, LIVE_PHASES, phaseMatches, type ListRunsOptions } from './list-filters';
import { searchAttributesUsable } from './search-attributes';

/** Options of a new run (see RunInput for their meaning and defaults). */
export interface StartRunOptions {
  runId?: string;
  /** Start even when a finished run has this id (the old one stays reachable only by its Temporal run id). */
  reuseId?: boolean;
  maxParallel?: number;
  maxRevisions?: number;
  maxReplans?: number;
  roles?: RoleInfo[];
  planApproval?: 'manual' | 'auto';
  finalApproval?: 'manual' | 'auto';
  budget?: Budget;
  ticketBudget?: Budget;
  gatePolicies?: RunInput['gatePolicies'];
}

/** One line of `maestro list`. */
export interface RunListItem {
  runId: string;
  status: string;
  goal: string;
  startTime: Date;
  closeTime?: Date;
  /** Maestro's phase: the MaestroPhase search attribute when the run recorded it, else from the status. */
  phase?: string;
  /** Cost so far (MaestroCostUsd), when the run recorded it. */
  costUsd?: number;
}

/** What `listRuns` found and how: the visibility query and any caveat worth telling a person. */
export interface RunList {
  runs: RunListItem[];
  query: string;
  note?: string;
}

/** Thrown for input a person must fix (empty goal, ...); the message says how. */
export class InputError extends Error {
  override name = 'InputError';
}

/** The refusal of a run id that names an existing run, running or finished. */
export function runIdInUse(runId: string, running: boolean): InputError {
  return new InputError(
    running
      ? `A run with id ${runId} is still running; follow it with \`maestro watch ${runId}\`, or choose another --run-id.`
      : `A run with id ${runId} already exists (finished); choose another --run-id, or pass --reuse-id to start a new run under this id (\`maestro status/result ${runId}\` then show the new run).`,
  );
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

/** The Boss's model as configured here, for labels; undefined when the config cannot be read. */
function bossModelLabel(): string | undefined {
  try {
    return loadConfig().boss.model;
  } catch {
    return undefined;
  }
}

function withBossModel(model: string | undefined): { bossModel?: string } {
  return model ? { bossModel: model } : {};
}

/** Client-side API over a Temporal client. */
export class MaestroClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
    /** Roles and Boss model for new runs; unset: read from the environment's configuration. */
    private readonly defaults: { roles?: RoleInfo[]; bossModel?: string } = {},
  ) {}

  /** Starts a run and returns its id (the orchestrator's workflow id). */
  async start(goalText: string, opts: StartRunOptions = {}): Promise<string> {
    const goal = validateGoal(goalText);
    const runId = opts.runId ?? newRunId();
    const idProblem = runIdProblem(runId);
    if (idProblem) throw new InputError(`Invalid run id ${JSON.stringify(runId)}: ${idProblem}.`);
    const input: RunInput = {
      goal,
      roles: opts.roles ?? this.defaults.roles ?? runRoles(),
      ...withBossModel(this.defaults.bossModel ?? bossModelLabel()),
      ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
      ...(opts.maxRevisions !== undefined ? { maxRevisions: opts.maxRevisions } : {}),
      ...(opts.maxReplans !== undefined ? { maxReplans: opts.maxReplans } : {}),
      ...(opts.planApproval ? { planApproval: opts.planApproval } : {}),
      ...(opts.finalApproval ? { finalApproval: opts.finalApproval } : {}),
      ...(opts.budget ? { budget: opts.budget } : {}),
      ...(opts.ticketBudget ? { ticketBudget: opts.ticketBudget } : {}),
      ...(opts.gatePolicies ? { gatePolicies: opts.gatePolicies } : {}),
      searchAttributes: await this.searchAttributesRegistered().catch(() => false),
    };
    await this.client.workflow
      .start('orchestratorWorkflow', {
        workflowId: runId,
        workflowIdReusePolicy: opts.reuseId ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
        taskQueue: this.taskQueue,
        args: [input],
        staticSummary: goal.length > 200 ? `${goal.slice(0, 197)}...` : goal,
        staticDetails: goal,
        memo: { goal },
      })
      .catch(async (err: unknown) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const running = await this.client.workflow
          .getHandle(runId)
          .describe()
          .then((d) => d.status.name === 'RUNNING')
          .catch(() => false);
        throw runIdInUse(runId, running);
      });
    return runId;
  }

  /**
   * Settles a pending gate through the `decide` update, so a refusal (no gate pending, unknown
   * ticket, already decided, wrong shape) comes back at once as an InputError saying why.
   */
  async decide(runId: string, req: DecideRequest): Promise<DecideResult> {
    const handle = await this.openRun(runId);
    try {
      return await handle.executeUpdate(decideUpdate, { args: [req] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        throw new InputError(`Run ${runId} refused the decision: ${err.cause?.message ?? err.message}`);
      }
      throw err;
    }
  }

  /** Adds to a run's budget (validated here; the run validates and audits it again). */
  async raiseBudget(runId: string, req: RaiseBudgetSignal): Promise<void> {
    for (const [name, v] of [
      ['usd', req.usd],
      ['tokens', req.tokens],
    ] as const) {
      if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
        throw new InputError(`raise-budget: ${name} must be a positive number, got ${String(v)}.`);
      }
    }
    if (req.usd === undefined && req.tokens === undefined) {
      throw new InputError('raise-budget: say how much to add with --usd and/or --tokens.');
    }
    await (await this.openRun(runId)).signal(raiseBudgetSignal, req);
  }

  /** Cancels a run (its children and in-flight LLM calls too). */
  async cancel(runId: string): Promise<void> {
    await (await this.openRun(runId)).cancel();
  }

  /** A handle of a run that is still running, or an InputError saying why not. */
  private async openRun(runId: string) {
    const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
    let desc: WorkflowExecutionDescription;
    try {
      desc = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new InputError(`There is no run with id ${runId}; see \`maestro list\`.`);
      throw err;
    }
    if (desc.status.name !== 'RUNNING') {
      throw new InputError(
        `Run ${runId} has already ended (${desc.status.name}); decisions are only taken while it runs.`,
      );
    }
    return handle;
  }

  /** Live status of a running run, or the final status of a closed one. */
  async status(runId: string): Promise<RunStatus> {
    const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      try {
        return await this.client.connection.withDeadline(Date.now() + 5000, () => handle.query(statusQuery));
      } catch (err) {
        throw new InputError(
          `Run ${runId} is running, but no worker answered its status query within 5 s (${(err as Error).message}). Start one with \`maestro dev\` or \`maestro worker\` on this task queue.`,
        );
      }
    }
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

  /** Most recent runs first, optionally filtered (a number is the limit, as before filters existed). */
  async list(opts: number | ListRunsOptions = {}): Promise<RunListItem[]> {
    return (await this.listRuns(typeof opts === 'number' ? { limit: opts } : opts)).runs;
  }

  /**
   * Whether all of Maestro's search attributes are registered on the namespace. A run upserts
   * them only then: upserting an unknown attribute would fail its workflow task.
   */
  async searchAttributesRegistered(): Promise<boolean> {
    return searchAttributesUsable(this.client, this.client.options.namespace);
  }

  /** Runs matching the filters, newest first, with the query used (see list-filters.ts). */
  async listRuns(opts: ListRunsOptions = {}): Promise<RunList> {
    const limit = opts.limit ?? 20;
    const namespace = this.client.options.namespace;
    const live = opts.phase !== 'awaiting-approval' && (LIVE_PHASES as readonly string[]).includes(opts.phase ?? '');
    const phaseRegistered = live
      ? await searchAttributesUsable(this.client, namespace, [SEARCH_ATTRIBUTES.phase])
      : true;
    const plan = buildListPlan(opts, phaseRegistered);
    const runs: RunListItem[] = [];
    for await (const wf of this.client.workflow.list({ query: plan.query })) {
      const recorded = wf.typedSearchAttributes.get(PHASE_KEY);
      let phase = recorded ?? CLOSED_PHASE[wf.status.name];
      if (plan.postFilterPhase) {
        const live = await this.liveStatus(wf.workflowId);
        if (!live || !phaseMatches(live, plan.postFilterPhase)) continue;
        phase = plan.postFilterPhase;
      }
      const costUsd = wf.typedSearchAttributes.get(COST_KEY);
      runs.push({
        runId: wf.workflowId,
        status: wf.status.name,
        goal: typeof wf.memo?.goal === 'string' ? wf.memo.goal : '',
        startTime: wf.startTime,
        closeTime: wf.closeTime,
        ...(phase !== undefined ? { phase } : {}),
        ...(costUsd !== undefined ? { costUsd } : {}),
      });
      if (runs.length >= limit) break;
    }
    return { runs, query: plan.query, ...(plan.note ? { note: plan.note } : {}) };
  }

  /** An open run's status, or undefined when no worker answers quickly. */
  private async liveStatus(runId: string): Promise<RunStatus | undefined> {
    try {
      const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
      return await this.client.connection.withDeadline(Date.now() + 3000, () => handle.query(statusQuery));
    } catch {
      return undefined;
    }
  }
}

const PHASE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, SearchAttributeType.KEYWORD);
const COST_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.costUsd, SearchAttributeType.DOUBLE);

/** Maestro phase of a closed workflow when the run did not record one. */
const CLOSED_PHASE: Partial<Record<string, string>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CANCELLED: 'cancelled',
};

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
    phase: r.status === 'stopped' ? 'stopped' : 'completed',
    outcome: r.status,
    planSummary: r.plan.summary,
    planAttempts: r.planAttempts,
    tickets: r.tickets,
    pendingGates: [],
    cost: r.cost,
    audit: r.audit ?? [],
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
    audit: [],
    error: error ?? `the run ended as ${desc.status.name}`,
  };
}
