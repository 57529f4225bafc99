/**
 * Every call a coding-agent CLI made through the real gateway is on the run's bill exactly once,
 * whatever ends its attempt: the run is cancelled while the CLI works (the bill a cancelled run
 * keeps in its memo), or the attempt times out after its worker died (the calls of its last
 * heartbeat). Real Temporal
 * dev server, real gateway, real sandbox, the stand-in CLI of test/fixtures/executor.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway } from '../../src/gateway';
import type { Gateway, GatewayOptions } from '../../src/activities/executor/gateway-port';
import { billOfMemo } from '../../src/shared/run-bill';
import { BOSS_ROLE, DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from '../../src/shared/roles';
import type { LlmCallRecord } from '../../src/shared/types';
import { ticketWorkflowId } from '../../src/shared/constants';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';
import { startExecutorWorker } from '../helpers/executor-worker';

const harness = useSimAndTemporal({ port: 0 });
const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-billing-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The default roles, each worked by the stand-in CLI with `args` (the plan's one ticket may go to any). */
function roles(args: string[], executor: Partial<NonNullable<RoleDefinition['executor']>> = {}): RoleDefinition[] {
  return DEFAULT_ROLES.map((r) => ({
    ...r,
    executor: { agent: 'custom' as const, wallMs: 60_000, maxRetries: 0, ...executor },
    executorCommand: { command: 'node', args: [FAKE_CLI, ...args] },
  }));
}

/** Calls of a bill's worker roles (every role but the Boss's). */
const workerCalls = (byRole: Record<string, { calls: number }> | undefined) =>
  Object.entries(byRole ?? {})
    .filter(([role]) => role !== BOSS_ROLE)
    .reduce((n, [, u]) => n + u.calls, 0);

/** A worker whose gateways are the real one, each kept so the test can read its ledger. */
async function startWorker(name: string, defs: RoleDefinition[]) {
  const gateways: Gateway[] = [];
  const deps = testDeps(harness.sim.baseUrl, {
    roles: defs,
    executor: {
      startGateway: async (o: GatewayOptions) => {
        const g = await startGateway(o);
        gateways.push(g);
        return g;
      },
      llm: { baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: 30_000 },
      workspaceParent: path.join(dir, name),
    },
  });
  const taskQueue = uniqueQueue(name);
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  /** Every call the gateways made upstream (the simulator answered each). */
  const gatewayCalls = (): LlmCallRecord[] => gateways.flatMap((g) => g.ledger().calls);
  return { worker, taskQueue, gatewayCalls };
}

/** Requests the simulator got from the stand-in CLI (its prompts are `call <i>`). */
const cliRequests = () => harness.sim.requests().filter((r) => r.messages.some((m) => /^call \d+$/.test(m.content)));

const waitFor = async (ok: () => boolean, ms: number, poll?: () => Promise<void>) => {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    await poll?.();
  }
};

test("a run cancelled while its CLI works: the CLI's calls are on the cancelled run's bill, once", async () => {
  harness.sim.clearRequests();
  const defs = roles(['calls-then-hang', '3']);
  const { worker, taskQueue, gatewayCalls } = await startWorker('exec-bill-cancel', defs);
  const runId = `${taskQueue}-run`;
  await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [
        {
          goal: 'Write a README for a bakery called Rise and Shine [sim:tickets=1]',
          roles: defs.map(roleInfoOf),
          budget: { usd: 1000 },
        },
      ],
    });
    await waitFor(() => cliRequests().length >= 3, 60_000);
    expect(cliRequests().length).toBe(3);
    await new Promise((r) => setTimeout(r, 1500)); // the CLI's calls are heartbeated
    await handle.cancel();
    await handle.result().catch(() => undefined);
  });
  const memo = (await harness.conn.client.workflow.getHandle(runId).describe()).memo;
  const bill = billOfMemo(memo);
  expect(gatewayCalls().length).toBe(3);
  expect(workerCalls(bill?.cost.byRole)).toBe(3);
}, 180_000);

/** Starts the fixture worker process with every worker role a stand-in CLI run with `args`. */
function workerProcess(taskQueue: string, work: string, args: string[]): Promise<ChildProcess> {
  return startExecutorWorker({ taskQueue, work, simUrl: harness.sim.baseUrl, args });
}

test("an attempt that times out (its worker died, no retry left): its last heartbeat's calls are on the bill, once", async () => {
  harness.sim.clearRequests();
  const taskQueue = uniqueQueue('exec-bill-timeout');
  const work = path.join(dir, 'timeout');
  const args = ['calls-then-hang', '2'];
  const first = await workerProcess(taskQueue, work, args);
  const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-run`,
    // No retry: the heartbeat timeout after the worker's death ends the attempt for good.
    args: [
      { goal: 'Write a README for a bakery called Rise and Shine [sim:tickets=1]', roles: roles(args).map(roleInfoOf) },
    ],
  });
  let second: ChildProcess | undefined;
  let closed = false;
  try {
    await waitFor(() => cliRequests().length >= 2, 90_000);
    expect(cliRequests().length).toBe(2);
    await new Promise((r) => setTimeout(r, 2500)); // the calls are heartbeated
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    second = await workerProcess(taskQueue, work, args);
    // The ticket fails once its heartbeat times out; the run then waits for a person, so the
    // test cancels it and reads the bill it keeps.
    const ticket = harness.conn.client.workflow.getHandle(ticketWorkflowId(`${taskQueue}-run`, 'T1'));
    await waitFor(
      () => closed,
      120_000,
      async () => {
        closed = (await ticket.describe()).status.name !== 'RUNNING';
      },
    );
    expect(closed).toBe(true);
    await handle.cancel();
    await handle.result().catch(() => undefined);
    const billed = workerCalls(billOfMemo((await handle.describe()).memo)?.cost.byRole);
    expect(cliRequests().length).toBe(2);
    expect(billed).toBe(2);
  } finally {
    first.kill('SIGKILL');
    second?.kill('SIGKILL');
  }
}, 240_000);

test('a CLI whose permits run out mid-work: exactly the permitted calls are booked, over every grant', async () => {
  harness.sim.clearRequests();
  // The stand-in calls until the gateway refuses; each execution is allowed 3 calls (maxCalls).
  const defs = roles(['loop'], { maxCalls: 3 });
  const { worker, taskQueue, gatewayCalls } = await startWorker('exec-bill-permits', defs);
  const runId = `${taskQueue}-run`;
  await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [
        {
          goal: 'Write a README for a bakery called Rise and Shine [sim:tickets=1]',
          roles: defs.map(roleInfoOf),
          budget: { usd: 1000 },
        },
      ],
    });
    // The ticket stops at its permits (asks again once: maxRetries 0 allows one more execution), then fails.
    const ticket = harness.conn.client.workflow.getHandle(ticketWorkflowId(runId, 'T1'));
    let closed = false;
    await waitFor(
      () => closed,
      120_000,
      async () => {
        closed = await ticket.describe().then(
          (d) => d.status.name !== 'RUNNING',
          () => false,
        );
      },
    );
    expect(closed).toBe(true);
    await handle.cancel();
    await handle.result().catch(() => undefined);
  });
  const bill = billOfMemo((await harness.conn.client.workflow.getHandle(runId).describe()).memo);
  const made = gatewayCalls();
  expect(made.every((c) => c.error === undefined)).toBe(true);
  expect(made.length % 3).toBe(0);
  expect(made.length).toBeGreaterThanOrEqual(3);
  expect(cliRequests().length).toBe(made.length);
  expect(workerCalls(bill?.cost.byRole)).toBe(made.length);
}, 240_000);
