/**
 * Crash survival: the worker runs as its own process and is killed with SIGKILL at the worst
 * moments (a pending gate, an LLM call in flight, several children running, a pending budget
 * gate); a new worker process finishes the run. The simulated LLM's request log proves that no
 * completed LLM call was paid for twice: only calls in flight at the kill may repeat. Also: the
 * Temporal server itself restarts (same SQLite file) while a gate is pending.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MaestroClient } from '../../src/client/api';
import { freePort, startDevServer, MAESTRO_SEARCH_ATTRIBUTES } from '../../src/dev/dev-server';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { raiseBudgetSignal } from '../../src/shared/messages';
import { expectNoPaidCallRepeated, killAndSnapshot, useCrashHarness } from '../helpers/paid-calls';
import { waitForStatus } from '../helpers/runs';
import { testAddress, uniqueQueue } from '../helpers/temporal';

const GOAL = 'Build a landing page for a coffee shop called Bean There';

const h = useCrashHarness();

function workerEnv(taskQueue: string, address = testAddress()): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: address,
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: h.sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-crash-')),
  };
}

describe('a SIGKILLed worker loses nothing and pays for nothing twice', () => {
  it('(a) while the plan gate is pending', async () => {
    h.sim.clearRequests();
    const taskQueue = uniqueQueue('crash-a');
    const env = workerEnv(taskQueue);
    const api = new MaestroClient(h.client, taskQueue);
    const w1 = await h.worker(env);
    const runId = await api.start(GOAL, { planApproval: 'manual', runId: `${taskQueue}-run` });
    await waitForStatus(h.client, runId, (s) => s.pendingGates.length === 1);
    const inFlight = await killAndSnapshot(h.sim, w1);
    await h.worker(env);
    await api.decide(runId, { decision: 'approve', by: 'ops-oncall' });
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.audit).toEqual(expect.arrayContaining([expect.objectContaining({ by: 'ops-oncall', action: 'approve' })]));
    expect(expectNoPaidCallRepeated(h.sim.requests(), inFlight)).toBe(0);
    expect(h.sim.requests().filter((q) => q.schemaName === SCHEMA_NAMES.plan)).toHaveLength(1);
  });

  it('(b) while an LLM call is in flight', async () => {
    h.sim.clearRequests();
    const taskQueue = uniqueQueue('crash-b');
    const env = workerEnv(taskQueue);
    const api = new MaestroClient(h.client, taskQueue);
    const w1 = await h.worker(env);
    h.sim.injectFault({ kind: 'latency', latencyMs: 4000, match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T3' } });
    const runId = await api.start(GOAL, { runId: `${taskQueue}-run` });
    await waitFor(() =>
      h.sim.requests().some((r) => r.ticketId === 'T3' && r.schemaName === SCHEMA_NAMES.work && r.status === 0),
    );
    const inFlight = await killAndSnapshot(h.sim, w1);
    expect(inFlight).toHaveLength(1);
    await h.worker(env);
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expectNoPaidCallRepeated(h.sim.requests(), inFlight);
    // The in-flight call was made again (once); every call completed before the kill was not.
    const t3work = h.sim.requests().filter((q) => q.ticketId === 'T3' && q.schemaName === SCHEMA_NAMES.work);
    expect(t3work.length).toBeGreaterThanOrEqual(2);
  }, 150_000);

  it('(c) while several children run', async () => {
    h.sim.clearRequests();
    const taskQueue = uniqueQueue('crash-c');
    const env = workerEnv(taskQueue);
    const api = new MaestroClient(h.client, taskQueue);
    const w1 = await h.worker(env);
    h.sim.injectFault({ kind: 'latency', latencyMs: 3000, times: 4, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await api.start('Write a set of short guides [sim:tickets=8]', {
      runId: `${taskQueue}-run`,
      maxParallel: 4,
    });
    await waitForStatus(h.client, runId, (s) => s.tickets.filter((t) => t.state === 'running').length >= 3);
    const inFlight = await killAndSnapshot(h.sim, w1);
    await h.worker(env);
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.tickets.every((t) => t.state === 'accepted')).toBe(true);
    expectNoPaidCallRepeated(h.sim.requests(), inFlight);
  }, 150_000);

  it('(d) while the budget gate is pending', async () => {
    h.sim.clearRequests();
    const taskQueue = uniqueQueue('crash-d');
    const env = workerEnv(taskQueue);
    const api = new MaestroClient(h.client, taskQueue);
    const w1 = await h.worker(env);
    const runId = await api.start(GOAL, { runId: `${taskQueue}-run`, budget: { usd: 0.004 } });
    await waitForStatus(h.client, runId, (s) => s.pendingGates[0]?.kind === 'budget');
    const inFlight = await killAndSnapshot(h.sim, w1);
    await h.worker(env);
    await h.client.workflow.getHandle(runId).signal(raiseBudgetSignal, { usd: 1, by: 'finance' });
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expect(expectNoPaidCallRepeated(h.sim.requests(), inFlight)).toBe(0);
  }, 150_000);
});

describe('the Temporal server restarts while a gate is pending', () => {
  it('keeps the run on its SQLite file; approving afterwards completes it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-restart-'));
    const port = await freePort();
    const serverOpts = {
      cliPath: process.env.TEMPORAL_CLI_PATH!,
      port,
      uiPort: false as const,
      dbFile: path.join(dir, 'temporal.db'),
      searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
      logFile: path.join(dir, 'server.log'),
    };
    let server = await startDevServer(serverOpts);
    const taskQueue = uniqueQueue('restart');
    const env = workerEnv(taskQueue, server.address);
    let w = await h.worker(env);
    let conn = await Connection.connect({ address: server.address });
    try {
      const runId = await new MaestroClient(new Client({ connection: conn }), taskQueue).start(GOAL, {
        planApproval: 'manual',
        runId: `${taskQueue}-run`,
      });
      await waitForStatus(new Client({ connection: conn }), runId, (s) => s.pendingGates.length === 1);
      await w.kill();
      await conn.close();
      await server.stop();

      server = await startDevServer(serverOpts);
      conn = await Connection.connect({ address: server.address });
      const c = new Client({ connection: conn });
      w = await h.worker(env);
      const api = new MaestroClient(c, taskQueue);
      await waitForStatus(c, runId, (s) => s.pendingGates.length === 1);
      await api.decide(runId, { decision: 'approve', by: 'after-restart' });
      const r = await api.result(runId);
      expect(r.status).toBe('completed');
      expect(r.gates[0]?.decision?.by).toBe('after-restart');
    } finally {
      await w.kill();
      await conn.close();
      await server.stop();
    }
  }, 150_000);
});

async function waitFor(predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
