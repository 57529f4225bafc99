/**
 * Records the histories test/workflows/replay.test.ts replays: one finished run (with a plan gate
 * settled by its timeout, budget permits and a ticket that needed a revision) plus every state a
 * run can be in while a deploy happens: each gate kind pending, a ticket in the middle of a
 * revision, a budget gate, a planning failure. Run by `npm run record-histories` after an intended
 * change of a workflow's shape (and say so in the commit); the in-flight runs are terminated after
 * their history is saved.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startSimLlm } from '../../src/dev/sim-llm';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import type { RunInput, RunStatus } from '../../src/shared/types';
import { waitForStatus } from './runs';
import { connectTest, testAddress, testDeps, testWorker, uniqueQueue } from './temporal';

/** A recorded path: how the run starts, when its history is saved, and which workflow's. */
interface Scenario {
  file: string;
  input: Omit<RunInput, 'roles'>;
  /** Saves once this holds ('closed': when the run has ended). */
  until: ((s: RunStatus) => boolean) | 'closed';
  /** Saves a child's history instead of the run's, once `childReady` holds for it. */
  child?: { id: string; ready: (history: Events) => boolean };
  /** Also saves a child of the same run, once the run is recorded (file name, ticket id). */
  alsoChild?: { file: string; id: string };
}

const gate = (kind: string) => (s: RunStatus) => s.pendingGates.some((g) => g.kind === kind);

type Events = { events?: unknown[] | null };
type Attrs = { activityType?: { name?: string }; scheduledEventId?: unknown };

/** performTicket activities of a ticket's history: how many were scheduled and how many finished. */
function performTickets(h: Events): { scheduled: number; completed: number } {
  const ids = new Set<string>();
  let completed = 0;
  for (const e of h.events ?? []) {
    const ev = e as { eventId?: unknown } & Record<string, Attrs | undefined>;
    if (ev.activityTaskScheduledEventAttributes?.activityType?.name === 'performTicket') ids.add(String(ev.eventId));
    const done = ev.activityTaskCompletedEventAttributes;
    if (done && ids.has(String(done.scheduledEventId))) completed++;
  }
  return { scheduled: ids.size, completed };
}

/** Every recorded path (file name -> scenario). */
export const SCENARIOS: Scenario[] = [
  {
    file: 'orchestrator-website.json',
    input: {
      goal: 'Build a landing page for a tea room called Steep [sim:invalid-plan=1]',
      planApproval: 'manual',
      gatePolicies: { plan: { timeoutMs: 300, onTimeout: 'approve' } },
      budget: { usd: 5 },
      searchAttributes: true,
    },
    until: 'closed',
    alsoChild: { file: 'ticket-with-revision.json', id: 'T3' },
  },
  {
    file: 'pending-plan-gate.json',
    input: { goal: 'Build a landing page for a bakery called Crumb', planApproval: 'manual', searchAttributes: true },
    until: gate('plan'),
  },
  {
    file: 'pending-ticket-gate.json',
    input: {
      goal: 'Build a landing page for a florist called Petal [sim:revise=5]',
      maxRevisions: 1,
      searchAttributes: true,
    },
    until: gate('ticket'),
  },
  {
    file: 'pending-final-gate.json',
    input: { goal: 'Build a landing page for a gym called Lift', finalApproval: 'manual', searchAttributes: true },
    until: gate('final'),
  },
  {
    file: 'pending-budget-gate.json',
    input: { goal: 'Build a landing page for a cinema called Reel', budget: { usd: 0.0005 }, searchAttributes: true },
    until: gate('budget'),
  },
  {
    file: 'planning-failure.json',
    input: { goal: 'Build a landing page for a diner called Fry [sim:invalid-plan=9]', maxReplans: 1 },
    until: 'closed',
  },
  {
    file: 'ticket-mid-revision.json',
    input: { goal: 'Build a landing page for a bookshop called Spine [sim:revise=2]', maxRevisions: 3 },
    until: (s) => s.phase === 'executing',
    // Saved while T1's second performTicket (the revision) is scheduled and not yet done.
    child: {
      id: 'T1',
      ready: (h) => {
        const p = performTickets(h);
        return p.scheduled >= 2 && p.completed === p.scheduled - 1;
      },
    },
  },
];

/** The `temporal` CLI writes the standard JSON history format (see the replay test). */
function historyJson(workflowId: string): string {
  return execFileSync(
    process.env.TEMPORAL_CLI_PATH!,
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', testAddress()],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

async function waitForChild(client: Client, id: string, ready: (h: Events) => boolean) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const h = await client.workflow
      .getHandle(id)
      .fetchHistory()
      .catch(() => undefined);
    if (h && ready(h)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`child ${id} never reached the state to record`);
}

async function recordOne(client: Client, taskQueue: string, s: Scenario): Promise<string> {
  const runId = `${taskQueue}-${s.file.replace(/\.json$/, '')}`;
  const handle: WorkflowHandle = await client.workflow.start('orchestratorWorkflow', {
    taskQueue,
    workflowId: runId,
    args: [{ ...s.input, roles: DEFAULT_ROLES.map(({ name, description }) => ({ name, description })) }],
  });
  if (s.until === 'closed') await handle.result().catch(() => undefined);
  else await waitForStatus(client, runId, s.until, 90_000, s.file);
  const workflowId = s.child ? `${runId}/${s.child.id}` : runId;
  if (s.child) await waitForChild(client, workflowId, s.child.ready);
  return workflowId;
}

/**
 * Runs the scenarios on the suite's server and writes the fixtures and their workflow ids. Only
 * missing fixtures are recorded unless `all` is set: kept fixtures are histories of older code,
 * which is exactly what a deploy must still replay.
 */
export async function recordHistories(dir: string, all: boolean): Promise<void> {
  const idsFile = path.join(dir, 'workflow-ids.json');
  const index: Record<string, string> = existsSync(idsFile)
    ? (JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, string>)
    : {};
  const todo = SCENARIOS.filter((s) => all || !existsSync(path.join(dir, s.file)));
  if (todo.length === 0) return;
  const sim = await startSimLlm({ port: 0, latencyMs: 200 });
  const conn = await connectTest();
  try {
    const taskQueue = uniqueQueue('record');
    const worker = await testWorker(conn.nativeConnection, taskQueue, testDeps(sim.baseUrl));
    await worker.runUntil(async () => {
      for (const s of todo) {
        const workflowId = await recordOne(conn.client, taskQueue, s);
        writeFileSync(path.join(dir, s.file), historyJson(workflowId));
        index[s.file] = workflowId;
        if (s.alsoChild) {
          const childId = `${workflowId}/${s.alsoChild.id}`;
          writeFileSync(path.join(dir, s.alsoChild.file), historyJson(childId));
          index[s.alsoChild.file] = childId;
        }
        const run = conn.client.workflow.getHandle(workflowId.split('/')[0]!);
        await run.terminate('recorded').catch(() => undefined); // already closed: fine
      }
    });
    writeFileSync(idsFile, JSON.stringify(index, null, 2) + '\n');
  } finally {
    await conn.close();
    await sim.close();
  }
}
