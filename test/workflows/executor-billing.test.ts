/**
 * Every call a coding-agent CLI made through the real gateway is on the run's bill exactly once,
 * whatever ends its attempt: the run is cancelled while the CLI works (the bill a cancelled run
 * keeps in its memo), or the attempt times out (the calls of its last heartbeat). Real Temporal
 * dev server, real gateway, real sandbox, the stand-in CLI of test/fixtures/executor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway } from '../../src/gateway';
import type { Gateway, GatewayOptions } from '../../src/activities/executor/gateway-port';
import { billOfMemo } from '../../src/shared/run-bill';
import { BOSS_ROLE, DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from '../../src/shared/roles';
import type { LlmCallRecord, RunResult } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

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

const waitFor = async (ok: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
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

test("an attempt that times out: the calls of its last heartbeat are on the failed run's bill, once", async () => {
  harness.sim.clearRequests();
  // A wall time of 3 s: the attempt's start-to-close (wall time + set-up margin) is what ends it.
  const defs = roles(['calls-then-hang', '2'], { wallMs: 3_000 });
  const { worker, taskQueue, gatewayCalls } = await startWorker('exec-bill-timeout', defs);
  const runId = `${taskQueue}-run`;
  const result = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [
        {
          goal: 'Write a README for a bakery called Rise and Shine [sim:tickets=1]',
          roles: defs.map(roleInfoOf),
        },
      ],
    });
    return (await handle.result().catch((e: unknown) => e)) as RunResult;
  });
  expect(cliRequests().length).toBe(2);
  expect(gatewayCalls().length).toBe(2);
  const coder = result.calls.filter((c) => c.role !== BOSS_ROLE);
  expect(coder.length).toBe(2);
}, 300_000);
