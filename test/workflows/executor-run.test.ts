/**
 * Runs whose Coder is a coding-agent CLI (the stand-in agent of test/fixtures/executor, which
 * talks chat completions to the gateway and writes with a `Write` tool), on the suite's Temporal
 * server with the real activities and sandbox: the CLI's files pass the Boss's review, the run's
 * bill has exactly the calls the gateway made (and the simulator answered), no request carries
 * the goal; cancelling the run kills the CLI and its children.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from '../../src/shared/roles';
import type { RunResult } from '../../src/shared/types';
import { stubGateway, type StubGatewayLog } from '../helpers/stub-gateway';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';
import { startExecutorWorker } from '../helpers/executor-worker';

const harness = useSimAndTemporal({ port: 0 });
const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The default roles with the Coder worked by the stand-in CLI in `mode`. */
function roles(mode: string, maxRetries = 0): RoleDefinition[] {
  return DEFAULT_ROLES.map((r) =>
    r.name === 'coder'
      ? {
          ...r,
          executor: { agent: 'custom' as const, wallMs: 60_000, maxRetries },
          executorCommand: { command: 'node', args: [FAKE_CLI, mode] },
        }
      : r,
  );
}

async function startRun(name: string, mode: string, goal: string) {
  const log: StubGatewayLog = { requests: [], started: [], refused: 0 };
  const taskQueue = uniqueQueue(name);
  const defs = roles(mode);
  const deps = testDeps(harness.sim.baseUrl, {
    roles: defs,
    executor: {
      startGateway: stubGateway(log),
      llm: { baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: 30_000 },
      workspaceParent: path.join(dir, name),
    },
  });
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  return { log, taskQueue, worker, runId: `${taskQueue}-run`, input: { goal, roles: defs.map(roleInfoOf) } };
}

function processesWith(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

test("a run whose Coder is a CLI: its files pass review, the bill is the gateway's, no request has the goal", async () => {
  harness.sim.clearRequests();
  const goal = 'Build a landing page for a tea room called Leaf Lounge';
  const { log, worker, runId, taskQueue, input } = await startRun('executor-website', 'agent', goal);
  const result = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [input],
    });
    return (await handle.result()) as RunResult;
  });
  expect(result.status).toBe('completed');
  const coderTickets = result.tickets.filter((t) => t.role === 'coder');
  expect(coderTickets.length).toBeGreaterThan(0);
  for (const t of coderTickets) {
    expect(t.state).toBe('accepted');
    // The Boss may send it back once (the simulated Boss wants a viewport on pages): the CLI then
    // starts again in the same space with the feedback.
    expect(t.attempts).toBeLessThanOrEqual(2);
    if (t.attempts === 2)
      expect(log.requests.some((r) => r.includes(`# Ticket ${t.id}`) && r.includes('Reviewer feedback'))).toBe(true);
    // The files the CLI wrote in the space are the ticket's delivered files.
    expect(result.manifest.filter((m) => m.ticketId === t.id).length).toBeGreaterThan(0);
  }
  // The bill: every call the gateway made for the CLI is on the run's bill, once.
  const cliCalls = result.calls.filter((c) => c.role === 'coder' && c.kind === 'work');
  expect(cliCalls.length).toBe(log.requests.length);
  expect(log.requests.length).toBeGreaterThanOrEqual(2 * coderTickets.length);
  // ... and equals what the simulator answered with the CLI's tools.
  const simCli = harness.sim.requests().filter((r) => r.messages.some((m) => m.content.includes('## How to deliver')));
  expect(simCli.length).toBe(log.requests.length);
  // Hygiene: no request the CLI made carries the goal, or another role's ticket.
  for (const r of log.requests) expect(r).not.toContain(goal);
  for (const r of simCli) expect(coderTickets.map((t) => t.id)).toContain(r.ticketId);
}, 180_000);

test('cancelling the run kills the CLI and every child it started', async () => {
  const { worker, runId, taskQueue, input } = await startRun(
    'executor-cancel',
    'spawn-children',
    'Build a landing page for a bakery called Crumb',
  );
  await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [input],
    });
    const deadline = Date.now() + 60_000;
    while (processesWith('sleep 1000').length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    expect(processesWith('sleep 1000').length).toBeGreaterThanOrEqual(3);
    await handle.cancel();
    const gone = Date.now() + 20_000;
    while (processesWith('sleep 1000').length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 250));
    expect(processesWith('sleep 1000')).toEqual([]);
    expect(processesWith(FAKE_CLI)).toEqual([]);
    await handle.result().catch(() => undefined);
  });
}, 180_000);

/** Starts the fixture worker process (its Coder is the slow stand-in CLI) and waits until it polls. */
function workerProcess(taskQueue: string, work: string): Promise<ChildProcess> {
  return startExecutorWorker({ taskQueue, work, simUrl: harness.sim.baseUrl });
}

test('a worker SIGKILLed mid-CLI: the CLI dies with it, the attempt runs again elsewhere, no call is lost or booked twice', async () => {
  harness.sim.clearRequests();
  const taskQueue = uniqueQueue('executor-sigkill');
  const work = path.join(dir, 'sigkill');
  const cliRequests = () =>
    harness.sim.requests().filter((r) => r.messages.some((m) => m.content.includes('## How to deliver')));
  const first = await workerProcess(taskQueue, work);
  const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-run`,
    args: [
      { goal: 'Build a landing page for a tea room called Leaf Lounge', roles: roles('slow-agent', 1).map(roleInfoOf) },
    ],
  });
  const deadline = Date.now() + 90_000;
  while (cliRequests().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const log = (m: string) => process.env.EXECUTOR_TEST_DEBUG && process.stderr.write(`[t] ${m}\n`);
  log(`cli requests ${cliRequests().length}`);
  expect(cliRequests().length).toBe(1);
  // The CLI thinks for 8 s after its first answer; its call is heartbeated meanwhile.
  await new Promise((r) => setTimeout(r, 4000));
  expect(processesWith('slow-agent').length).toBeGreaterThan(0);
  expect(processesWith('slow-agent-daemon').length).toBeGreaterThan(0);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const gone = Date.now() + 10_000;
  while (processesWith('slow-agent').length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
  expect(processesWith('slow-agent')).toEqual([]);
  log('killed');
  const second = await workerProcess(taskQueue, work);
  log('second started');
  try {
    const result = (await handle.result()) as RunResult;
    expect(result.status).toBe('completed');
    const cliCalls = result.calls.filter((c) => c.role === 'coder' && c.kind === 'work');
    // Every call the simulator answered for a CLI is on the bill exactly once: the killed
    // attempt's (from its heartbeats) and the ones of the attempt that ran again.
    expect(cliCalls.length).toBe(cliRequests().length);
    expect(cliCalls.filter((c) => c.attempt === 1).length).toBeGreaterThanOrEqual(1);
    expect(cliCalls.some((c) => c.attempt === 2)).toBe(true);
    // The new worker removed the dead one's attempt folder at its start; its own are gone too.
    expect(readdirSync(path.join(work, 'ws')).filter((n) => n.startsWith('maestro-ws-'))).toEqual([]);
  } finally {
    second.kill('SIGKILL');
  }
}, 240_000);
