/**
 * The watcher's data source: polls a run (describe + status query) and the live progress of its
 * running tickets (each child's own status query), yielding one snapshot per poll until the run
 * closes. Read-only: watching never changes a run, and stopping the watcher never stops it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { agentLoopStatusQuery, statusQuery, ticketStatusQuery, type TicketProgress } from '../../shared/messages';
import type { ToolCallRecord } from '../../shared/tools';
import { agentLoopWorkflowId } from '../../shared/constants';
import { isEpic } from '../../shared/epics';
import type { RunPhase, RunStatus } from '../../shared/types';
import { emptyUsage } from '../../shared/usage';
import type { MaestroClient } from '../api';
import { RunNotFoundError } from '../errors';
import { visibilityPhase } from '../run-phase';
import { subRunViews } from '../sub-runs';
import { MAX_DESCRIBES, type ExecutorProgressView } from './executor-progress';
import { fetchLiveActivities, type LiveActivities } from './live-activities';
import type { LlmProgressView } from './llm-progress';
import { pendingActivitiesOf } from './pending-activities';
import type { WatchSnapshot } from './render';

/** How often and how patiently to poll. */
export interface PollOptions {
  intervalMs: number;
  /** Per-request deadline of the queries (a run whose worker is down must not freeze the view). */
  queryTimeoutMs?: number;
}

/** Snapshots of `runId` until (and including) the one after it closed. */
export async function* watchSnapshots(
  api: MaestroClient,
  runId: string,
  opts: PollOptions,
): AsyncGenerator<WatchSnapshot, void, undefined> {
  const handle = api.client.workflow.getHandle(runId);
  const deadline = () => Date.now() + (opts.queryTimeoutMs ?? 3000);
  let last: RunStatus | undefined;
  const endedSubRuns = new Map<string, RunStatus>();
  const seen: Seen = { executors: new Map(), llm: new Map() };
  let polls = 0;
  for (;;) {
    let desc;
    try {
      desc = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new RunNotFoundError(
          runId,
          `No run "${runId}" in namespace ${api.client.options.namespace}. List runs with \`maestro list\`.`,
        );
      }
      throw err;
    }
    const times = { startedAt: desc.startTime, ...(desc.closeTime ? { closedAt: desc.closeTime } : {}) };
    if (desc.status.name !== 'RUNNING') {
      yield { status: await api.status(runId), progress: {}, execution: desc.status.name, ...times };
      return;
    }
    try {
      const own = await api.client.connection.withDeadline(deadline(), () => handle.query(statusQuery));
      const status = await withSubRuns(api, own, deadline, endedSubRuns);
      last = status;
      const progress = await ticketProgress(api, status, deadline);
      const runPending = await pendingActivitiesOf(api.client, desc.raw).catch(() => []);
      const [liveToolCalls, live] = await Promise.all([
        agentToolCalls(api, status, progress, deadline),
        liveActivities(api, status, runPending, deadline, seen, polls++),
      ]);
      yield { status, progress, liveToolCalls, ...live, execution: 'RUNNING', ...times };
    } catch {
      // No worker has picked the run up yet (or it is briefly away): show what is known.
      const goal = typeof desc.memo?.goal === 'string' ? desc.memo.goal : '';
      yield {
        // The phase `maestro list` shows (recorded by the run), not a guess: the run may be well past planning.
        status: last ?? placeholderStatus(runId, goal, visibilityPhase(desc) ?? 'planning'),
        progress: {},
        execution: 'RUNNING',
        ...times,
        note: 'No worker answers for this run right now; start one with `maestro dev` or `maestro worker`.',
      };
    }
    await sleep(opts.intervalMs);
  }
}

/** Progress of each running ticket; a child that does not answer in time is simply left out. */
async function ticketProgress(
  api: MaestroClient,
  status: RunStatus,
  deadline: () => number,
): Promise<Record<string, TicketProgress>> {
  const running = status.tickets.filter((t) => t.state === 'running');
  const answers = await Promise.all(
    running.map(async (t) => {
      try {
        const child = api.client.workflow.getHandle(t.childId);
        return await api.client.connection.withDeadline(deadline(), () => child.query(ticketStatusQuery));
      } catch {
        return undefined;
      }
    }),
  );
  return Object.fromEntries(answers.filter((p) => p !== undefined).map((p) => [p.ticketId, p]));
}

/**
 * Tool calls so far of the running tickets' current agent loops (`<child id>/agent-<attempt>`);
 * tickets that are not agents, or do not answer in time, are left out.
 */
async function agentToolCalls(
  api: MaestroClient,
  status: RunStatus,
  progress: Record<string, TicketProgress>,
  deadline: () => number,
): Promise<Record<string, ToolCallRecord[]>> {
  const working = status.tickets.filter((t) => t.state === 'running' && progress[t.id]?.stage === 'working');
  const answers = await Promise.all(
    working.map(async (t) => {
      try {
        const loop = api.client.workflow.getHandle(agentLoopWorkflowId(t.childId, progress[t.id]!.attempt));
        const p = await api.client.connection.withDeadline(deadline(), () => loop.query(agentLoopStatusQuery));
        return [t.id, p.toolCalls] as const;
      } catch {
        return undefined;
      }
    }),
  );
  return Object.fromEntries(answers.filter((a) => a !== undefined && a[1].length > 0) as [string, ToolCallRecord[]][]);
}

/** The last view of each ticket, kept while it is described in turn with the others. */
interface Seen {
  executors: Map<string, ExecutorProgressView>;
  llm: Map<string, LlmProgressView>;
}

/**
 * What the running tickets' pending activities show (CLI progress, streaming progress, retries)
 * and the run's own (the plan): MAX_DESCRIBES tickets per poll, moving round the list when more
 * run, each ticket showing its last progress meanwhile (retries are shown only when seen afresh).
 */
async function liveActivities(
  api: MaestroClient,
  status: RunStatus,
  runPending: Awaited<ReturnType<typeof pendingActivitiesOf>>,
  deadline: () => number,
  seen: Seen,
  poll: number,
): Promise<
  Pick<LiveActivities, 'retries'> & {
    executors: Record<string, ExecutorProgressView>;
    llm: Record<string, LlmProgressView>;
  }
> {
  const running = status.tickets.filter((t) => t.state === 'running');
  // Tickets no longer running are forgotten; the others keep their last view until described again.
  for (const map of [seen.executors, seen.llm])
    for (const id of [...map.keys()]) if (!running.some((t) => t.id === id)) map.delete(id);
  seen.llm.delete('plan');
  const fresh = await fetchLiveActivities(
    api.client,
    runPending,
    running,
    deadline,
    MAX_DESCRIBES,
    poll * MAX_DESCRIBES,
  );
  for (const [id, view] of Object.entries(fresh.executors)) seen.executors.set(id, view);
  for (const [id, view] of Object.entries(fresh.llm)) seen.llm.set(id, view);
  return { executors: Object.fromEntries(seen.executors), llm: Object.fromEntries(seen.llm), retries: fresh.retries };
}

const ENDED_PHASES: ReadonlySet<string> = new Set(['completed', 'stopped', 'failed', 'cancelled']);

/**
 * The status with its epics' sub-runs (counts and gates), each asked with the same deadline; a
 * sub-run that has ended is asked once (`ended` keeps it), so a long watch does not replay it again.
 */
async function withSubRuns(
  api: MaestroClient,
  status: RunStatus,
  deadline: () => number,
  ended: Map<string, RunStatus>,
): Promise<RunStatus> {
  if (!status.tickets.some(isEpic)) return status;
  const subRuns = await subRunViews(status, async (id) => {
    const known = ended.get(id);
    if (known) return known;
    const s = await api.client.connection.withDeadline(deadline(), () =>
      api.client.workflow.getHandle(id).query(statusQuery),
    );
    if (ENDED_PHASES.has(s.phase)) ended.set(id, s);
    return s;
  });
  return { ...status, subRuns };
}

function placeholderStatus(runId: string, goal: string, phase: RunPhase): RunStatus {
  return {
    runId,
    goal,
    phase,
    planAttempts: 0,
    tickets: [],
    pendingGates: [],
    cost: { usd: 0, tokens: 0, usage: emptyUsage(), byRole: {} },
    audit: [],
  };
}
