/**
 * The programmatic Maestro client: start runs, follow their events, decide at their gates, read
 * their status and results, list them. The CLI is a thin layer over this, and TypeScript users
 * call it from their own code (`import { connectMaestro } from 'maestro-agents'`).
 */
import {
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
import { isEpic } from '../shared/epics';
import {
  decideUpdate,
  raiseBudgetSignal,
  statusQuery,
  type DecideRequest,
  type DecideResult,
  type RaiseBudgetSignal,
} from '../shared/messages';
import { runIdProblem } from '../shared/run-id';
import type { ArtifactRef, RoleInfo, RunStatus } from '../shared/types';
import { loadConfig, runRoles } from '../config';
import type { orchestratorWorkflow } from '../workflows';
import {
  decisionLostToEnd,
  decisionRefused,
  InputError,
  isLostToClosingRun,
  MaestroError,
  NoWorkerError,
  RunEndedError,
  RunNotFoundError,
} from './errors';
import { cancelledRunResult, type MaestroRunResult } from './cancelled-result';
import { assembleRunOutput } from './output';
import {
  buildListPlan,
  phaseMatches,
  phaseNeedsSearchAttribute,
  subRunCountQuery,
  type ListRunsOptions,
} from './list-filters';
import { visibilityPhase } from './run-phase';
import { buildRunInput, newRunId, runStartMetadata, type StartRunOptions } from './run-input';
import { completedRunStatus } from './completed-status';
import { fetchMissingArtifacts } from './fetch-artifacts';
import { closedOutcome, closedStatus, describeFailure, isCancelledRun } from './run-views';
import { searchAttributesUsable } from './search-attributes';
import { subRunViews } from './sub-runs';
import type { WatchEvent } from './watch/events';
import { runEvents, type RunEventsOptions } from './watch/events-stream';
import { listExecutions } from './list-executions';
import { flushTracing } from '../telemetry/tracing';

export { InputError } from './errors';
export { newRunId, validateGoal, type StartRunOptions } from './run-input';
export { describeFailure } from './run-views';

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
  /** Set on an epic's sub-run (listed with `subRuns: true`): the run that started it. */
  parentRunId?: string;
  /** On a top-level run: how many sub-runs (at every level) its epics started, when visibility could count them. */
  subRunCount?: number;
}

/** What `listRuns` found and how: the visibility query and any caveat worth telling a person. */
export interface RunList {
  runs: RunListItem[];
  query: string;
  note?: string;
}

/** A person's decision at a gate, without the verb (approve/reject say it). */
export type GateDecision = Omit<DecideRequest, 'decision'>;

/** What new runs get from where the client was set up (else from this process's configuration). */
export interface MaestroClientDefaults {
  /** The team of new runs. */
  roles?: RoleInfo[];
  /** The Boss's model, for labels in the Web UI. */
  bossModel?: string;
  /** Webhooks every run started by this client notifies (maestro.config.json `notify`). */
  notify?: string[];
  /** Base URL of the Temporal Web UI, for links in notifications. */
  webUiUrl?: string;
  /** MAESTRO_HOME whose artifact store `saveFiles` reads (default: from the configuration). */
  home?: string;
  /** Timeout of one LLM call for new runs (MAESTRO_LLM_TIMEOUT_MS); activity timeouts derive from it. */
  llmTimeoutMs?: number;
}

/** The refusal of a run id that names an existing run, running or finished. */
export function runIdInUse(runId: string, running: boolean): InputError {
  return new InputError(
    running
      ? `A run with id ${runId} is still running; follow it with \`maestro watch ${runId}\`, or choose another --run-id.`
      : `A run with id ${runId} already exists (finished); choose another --run-id, or pass --reuse-id to start a new run under this id (\`maestro status/result ${runId}\` then show the new run).`,
  );
}

/** The Boss's model as configured here, for labels; undefined when the config cannot be read. */
function bossModelLabel(): string | undefined {
  try {
    return loadConfig().boss.model;
  } catch {
    return undefined;
  }
}

/** Client-side API over a Temporal client (see `connectMaestro` to build one from the configuration). */
export class MaestroClient {
  constructor(
    /** The Temporal client underneath, for anything Maestro does not wrap. */
    readonly client: Client,
    /** Task queue of Maestro's workers (MAESTRO_TASK_QUEUE, default `maestro`). */
    readonly taskQueue: string,
    /** Roles, Boss model, webhooks and Web UI link for new runs; unset: read from the environment's configuration. */
    private readonly defaults: MaestroClientDefaults = {},
  ) {}

  /** Starts a run and returns its id (the orchestrator's workflow id). Throws InputError for a bad goal or option. */
  async start(goalText: string, opts: StartRunOptions = {}): Promise<string> {
    const runId = opts.runId ?? newRunId();
    const idProblem = runIdProblem(runId);
    if (idProblem) throw new InputError(`Invalid run id ${JSON.stringify(runId)}: ${idProblem}.`);
    const input = buildRunInput(goalText, opts, {
      roles: this.defaults.roles ?? runRoles(),
      bossModel: this.defaults.bossModel ?? bossModelLabel(),
      notify: this.defaults.notify,
      webUiUrl: this.defaults.webUiUrl,
      llmTimeoutMs: this.defaults.llmTimeoutMs,
      searchAttributes: await this.searchAttributesRegistered().catch(() => false),
    });
    await this.client.workflow
      .start<typeof orchestratorWorkflow>('orchestratorWorkflow', {
        workflowId: runId,
        workflowIdReusePolicy: opts.reuseId ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
        taskQueue: this.taskQueue,
        args: [input],
        ...runStartMetadata(input.goal),
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
   * Events of a run until it ends, as `maestro watch --json` prints them: phase and ticket
   * changes, gates opened and closed (with the commands that settle them), cost, then `end`.
   * It keeps following while no worker answers (a worker restart), and never changes the run.
   */
  events(runId: string, opts: RunEventsOptions = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return runEvents(this, runId, opts);
  }

  /**
   * Settles a pending gate through the `decide` update, so a refusal (no gate pending, unknown
   * ticket, already decided, wrong shape) comes back at once as a typed error saying why:
   * GateNotPendingError, DecisionRefusedError, RunEndedError or RunNotFoundError.
   */
  async decide(runId: string, req: DecideRequest): Promise<DecideResult> {
    const handle = await this.openRun(runId);
    try {
      return await handle.executeUpdate(decideUpdate, { args: [req] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw decisionRefused(runId, err.cause?.message ?? err.message);
      // The run ended while the decision was on its way (another decision settled its last gate):
      // Temporal says "aborted by closing workflow" or "not found"; say it in Maestro's words.
      if (isLostToClosingRun(err)) {
        const now = await this.describe(runId);
        if (now.status.name !== 'RUNNING') throw decisionLostToEnd(runId, now.status.name);
      }
      throw err;
    }
  }

  /** Approves the pending gate (`gate`/`ticketId` pick one when several wait); see decide. */
  approve(runId: string, req: GateDecision = {}): Promise<DecideResult> {
    return this.decide(runId, { ...req, decision: 'approve' });
  }

  /** Rejects the pending gate; `comment` is what the Boss re-plans or the worker retries with. */
  reject(runId: string, req: GateDecision = {}): Promise<DecideResult> {
    return this.decide(runId, { ...req, decision: 'reject' });
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

  /** A handle of a run that is still running, or RunNotFoundError / RunEndedError. */
  private async openRun(runId: string) {
    const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
    const desc = await this.describe(runId);
    if (desc.status.name !== 'RUNNING') throw new RunEndedError(runId, desc.status.name);
    return handle;
  }

  /** Temporal's description of a run, or RunNotFoundError. */
  private async describe(runId: string): Promise<WorkflowExecutionDescription> {
    try {
      return await this.client.workflow.getHandle(runId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(runId);
      throw err;
    }
  }

  /**
   * Live status of a running run, or the final status of a closed one; a run with epics also gets
   * `subRuns`: each started epic's sub-run as counts per state and its pending gates.
   */
  async status(runId: string): Promise<RunStatus> {
    const status = await this.ownStatus(runId);
    if (!status.tickets.some(isEpic)) return status;
    const subRuns = await subRunViews(status, (id) => this.ownStatus(id));
    return subRuns.length > 0 ? { ...status, subRuns } : status;
  }

  /** The run's own status (its status query, or what its result or description says). */
  private async ownStatus(runId: string): Promise<RunStatus> {
    const handle = this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId);
    const desc = await this.describe(runId);
    if (desc.status.name === 'RUNNING') {
      try {
        return await this.client.connection.withDeadline(Date.now() + 5000, () => handle.query(statusQuery));
      } catch (err) {
        throw new NoWorkerError(
          runId,
          `Run ${runId} is running, but no worker answered its status query within 5 s (${(err as Error).message}). Start one with \`maestro dev\` or \`maestro worker\` on this task queue.`,
        );
      }
    }
    if (desc.status.name === 'COMPLETED') {
      const home = this.defaults.home ?? loadConfig().home;
      const fetchMissing = (artifacts: ArtifactRef[]) =>
        fetchMissingArtifacts({ client: this.client, home, runId, taskQueue: desc.taskQueue, artifacts });
      return completedRunStatus({ result: await handle.result(), home, fetchMissing });
    }
    // Failed, cancelled, terminated: ask a worker for the last state, briefly; else describe it.
    try {
      const last = await this.client.connection.withDeadline(Date.now() + 3000, () => handle.query(statusQuery));
      return { ...last, outcome: closedOutcome(desc) };
    } catch {
      return closedStatus(runId, desc, await this.failureMessage(runId));
    }
  }

  /**
   * Waits for and returns a run's result; throws RunNotFoundError for an unknown id, and
   * Temporal's WorkflowFailedError when the run failed (describeFailure gives its one-line reason).
   * A cancelled run gives what it had accepted, with `status: 'cancelled'` (see CancelledRunResult),
   * as `maestro result` does.
   */
  async result(runId: string): Promise<MaestroRunResult> {
    await this.describe(runId);
    try {
      return await this.client.workflow.getHandle<typeof orchestratorWorkflow>(runId).result();
    } catch (err) {
      if (!isCancelledRun(err)) throw err;
      return cancelledRunResult(this.client, runId, await this.describe(runId));
    }
  }

  /**
   * Writes a finished run's files into `out` (default `<MAESTRO_HOME>/output/<runId>`) and
   * returns the folder and the files; of a cancelled run, the files of the tickets it accepted.
   * Reads the artifact store the workers wrote to, fetching what this machine lacks from the
   * run's worker; refuses a non-empty folder holding other files unless `force` (the CLI's `--force`).
   */
  async saveFiles(runId: string, out?: string, force = false): Promise<{ outDir: string; files: string[] }> {
    const result = await this.result(runId);
    if (result.status === 'cancelled' && result.manifest.length === 0)
      throw new MaestroError(`Run ${runId} was cancelled before any ticket was accepted, so it has no files to save.`);
    const config = loadConfig();
    const home = this.defaults.home ?? config.home;
    return assembleRunOutput({ ...config, home }, result, {
      out,
      force,
      fetchMissing: async (artifacts) => {
        await fetchMissingArtifacts({ client: this.client, home, runId, artifacts });
      },
    });
  }

  /** Closes the connection to Temporal; the client is unusable afterwards (runs go on). */
  async close(): Promise<void> {
    await this.client.connection.close();
    await flushTracing();
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
    const phaseRegistered = phaseNeedsSearchAttribute(opts.phase)
      ? await searchAttributesUsable(this.client, namespace, [SEARCH_ATTRIBUTES.phase])
      : true;
    const plan = buildListPlan(opts, phaseRegistered);
    const runs: RunListItem[] = [];
    let unreadable: string | undefined;
    let unreadableCount = 0;
    for await (const { info: wf, memoProblem } of listExecutions(this.client, plan.query)) {
      let phase: string | undefined = visibilityPhase(wf);
      if (plan.postFilterPhase) {
        const live = await this.liveStatus(wf.workflowId);
        if (!live || !phaseMatches(live, plan.postFilterPhase)) continue;
        phase = plan.postFilterPhase;
      }
      const costUsd = wf.typedSearchAttributes.get(COST_KEY);
      runs.push({
        runId: wf.workflowId,
        status: wf.status.name,
        goal: memoProblem ? UNREADABLE_GOAL : typeof wf.memo?.goal === 'string' ? wf.memo.goal : '',
        startTime: wf.startTime,
        closeTime: wf.closeTime,
        ...(phase !== undefined ? { phase } : {}),
        ...(costUsd !== undefined ? { costUsd } : {}),
        ...(wf.parentExecution?.workflowId ? { parentRunId: wf.parentExecution.workflowId } : {}),
      });
      if (memoProblem) {
        unreadableCount++;
        unreadable ??= memoProblem;
      }
      if (runs.length >= limit) break;
    }
    await this.countSubRuns(runs);
    const notes = [
      plan.note,
      unreadable &&
        `the goal of ${unreadableCount} run(s) could not be decoded here, so it is shown as ${UNREADABLE_GOAL}: ${unreadable}`,
    ].filter((n): n is string => Boolean(n));
    return { runs, query: plan.query, ...(notes.length ? { note: notes.join(' Also: ') } : {}) };
  }

  /** Sets `subRunCount` on the top-level runs (one count query each, in parallel; left out on error). */
  private async countSubRuns(runs: RunListItem[]): Promise<void> {
    await Promise.all(
      runs
        .filter((r) => r.parentRunId === undefined)
        .map(async (r) => {
          try {
            r.subRunCount = (await this.client.workflow.count(subRunCountQuery(r.runId))).count;
          } catch {
            // A server whose visibility cannot count by root: the listing stays useful without it.
          }
        }),
    );
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

/** The goal column of a run whose memo this client cannot decode (e.g. encrypted with a key it lacks). */
const UNREADABLE_GOAL = '(goal unreadable here)';

const COST_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.costUsd, SearchAttributeType.DOUBLE);
