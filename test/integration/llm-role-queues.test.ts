/**
 * Per-role task queues with real worker processes: `maestro worker` (main queue) and
 * `maestro worker --roles coder` (the coder's own queue, from maestro.config.json) as
 * subprocesses of the built CLI, on the suite's Temporal dev server and a simulated LLM started
 * here. Without the coder's worker, coder tickets wait; with it, exactly that process makes the
 * coder's LLM calls and the run completes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RunResult, TicketInput, TicketOutcome } from '../../src/shared/types';
import { cleanEnv, runCli } from '../helpers/cli';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { testAddress, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const GOAL = 'Build a landing page for a bike shop called Spokes';
const SCHEDULED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

const harness = useSimAndTemporal({ port: 0 });
const workers: WorkerProcess[] = [];
const mainQueue = uniqueQueue('roles');
const coderQueue = `${mainQueue}-role-coder`;
const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-roles-'));
const configFile = path.join(home, 'maestro.config.json');
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  writeFileSync(
    configFile,
    JSON.stringify({
      roles: [
        { name: 'designer' },
        { name: 'writer' },
        { name: 'coder', taskQueue: true, retry: { initialIntervalMs: 200, maximumAttempts: 3 } },
        { name: 'tester' },
      ],
    }),
  );
  env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: mainQueue,
    OPENAI_BASE_URL: harness.sim.baseUrl,
    OPENAI_API_KEY: 'test-key',
    MAESTRO_HOME: home,
    MAESTRO_CONFIG: configFile,
    MAESTRO_LOG_LEVEL: 'ERROR',
  });
});
/** Starts `maestro worker ...args` as a process; killed after the tests. */
async function startWorker(args: string[]): Promise<WorkerProcess> {
  const w = await spawnWorker(env, args);
  workers.push(w);
  return w;
}

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
});

/** The result of a child workflow that may not have been started yet. */
async function childResult(workflowId: string): Promise<TicketOutcome> {
  for (let i = 0; ; i++) {
    try {
      return (await harness.conn.client.workflow.getHandle(workflowId).result()) as TicketOutcome;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || i > 200) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('per-role task queues with separate worker processes', () => {
  it('refuses --roles for a role without its own queue, saying how to give it one', async () => {
    const res = await runCli(['worker', '--roles', 'writer'], env, 30_000);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('role "writer" has no task queue of its own');
    expect(res.stderr).toContain('{"name": "writer", "taskQueue": true}');
  });

  it('routes coder work to the coder worker only; without it, coder tickets wait', async () => {
    const main = await startWorker([]);
    const runId = `${mainQueue}-run`;
    const started = await runCli(['start', GOAL, '--run-id', runId], env, 60_000);
    expect(started.stderr).not.toMatch(/error/i);
    expect(started.stdout.trim()).toBe(runId);

    // Designer and writer finish on the main worker; the coder's ticket is scheduled on its own
    // queue, where nobody polls yet.
    for (const id of ['T1', 'T2']) await childResult(`${runId}/${id}`);
    const t3 = harness.conn.client.workflow.getHandle(`${runId}/T3`);
    let pending: temporal.api.workflow.v1.IPendingActivityInfo | undefined;
    for (let i = 0; i < 100 && !pending; i++) {
      pending = (await t3.describe().catch(() => undefined))?.raw.pendingActivities?.[0] ?? undefined;
      if (!pending) await new Promise((r) => setTimeout(r, 100));
    }
    expect(pending?.activityType?.name).toBe('performTicket');
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = (await t3.describe()).raw.pendingActivities?.[0];
    expect(waiting?.state).toBe(SCHEDULED);
    expect(harness.sim.requests().filter((r) => r.ticketId === 'T3')).toHaveLength(0);
    const history = await t3.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    const ticketInput = JSON.parse(Buffer.from(input!).toString('utf8')) as TicketInput;
    expect(ticketInput.role).toMatchObject({ name: 'coder', taskQueue: coderQueue });

    const coder = await startWorker(['--roles', 'coder']);
    const result = (await harness.conn.client.workflow.getHandle(runId).result()) as RunResult;
    expect(result.status).toBe('completed');

    const host = os.hostname();
    const outcome = (await t3.result()) as TicketOutcome;
    const work = (outcome.calls ?? []).filter((c) => c.kind === 'work');
    const reviews = (outcome.calls ?? []).filter((c) => c.kind === 'review');
    expect(work.length).toBeGreaterThan(0);
    for (const c of work)
      expect(c).toMatchObject({ taskQueue: coderQueue, workerIdentity: `${coder.child.pid}@${host}` });
    for (const c of reviews)
      expect(c).toMatchObject({ taskQueue: mainQueue, workerIdentity: `${main.child.pid}@${host}` });
    const designer = (await harness.conn.client.workflow.getHandle(`${runId}/T1`).result()) as TicketOutcome;
    for (const c of designer.calls ?? []) expect(c.workerIdentity).toBe(`${main.child.pid}@${host}`);
    expect(harness.sim.requests().filter((r) => r.ticketId === 'T3' && r.schemaName === SCHEMA_NAMES.work).length).toBe(
      work.length,
    );
  });
});
