/**
 * The LLM layer as a whole run sees it, on the suite's Temporal dev server: cancelling a run
 * aborts its in-flight HTTP request within seconds, a wrong API key fails the run at once with
 * one clear message (no retries, no hang), and every ticket reports its LLM calls.
 */
import os from 'node:os';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { describeFailure } from '../../src/client/api';
import { startSimLlm } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RunInput, RunResult, TicketOutcome } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const roles = TEST_ROLES;
const GOAL = 'Build a landing page for a bakery called Rise and Shine';

const harness = useSimAndTemporal({ port: 0 });

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('LLM layer in a run', () => {
  it('cancelling a run aborts the in-flight LLM request within seconds', async () => {
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'hang', match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T1' } });
    const taskQueue = uniqueQueue('llm-cancel');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const runId = `${taskQueue}-run`;
    await worker.runUntil(async () => {
      const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
        taskQueue,
        workflowId: runId,
        args: [{ goal: GOAL, roles } satisfies RunInput],
      });
      const hung = await waitFor('the hung request', () =>
        harness.sim.requests().find((r) => r.fault === 'hang' && r.status === 0),
      );
      const cancelledAt = Date.now();
      await handle.cancel();
      const closed = await waitFor('the request to be closed', () =>
        harness.sim.requests().find((r) => r.seq === hung.seq && r.status !== 0),
      );
      const closedAfter = Date.now() - cancelledAt;
      expect(closed.status).toBe(499); // the client went away before the answer
      expect(closedAfter).toBeLessThan(5000);
      await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
      const err = await handle.result().catch((e: unknown) => e);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    });
  });

  it('a wrong API key fails the run at once with one clear message and a single request', async () => {
    const guarded = await startSimLlm({ port: 0, requireApiKey: 'the-right-key' });
    try {
      const taskQueue = uniqueQueue('llm-badkey');
      const llm = new StructuredLlm({ baseUrl: guarded.baseUrl, apiKey: 'a-wrong-key', timeoutMs: 30_000 });
      const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(guarded.baseUrl, { llm }));
      const started = Date.now();
      const err = await worker.runUntil(async () => {
        const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
          taskQueue,
          workflowId: `${taskQueue}-run`,
          args: [{ goal: GOAL, roles } satisfies RunInput],
        });
        return handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
      });
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const message = describeFailure(err);
      expect(message).toContain('boss plan (attempt 1): 401 Incorrect API key provided');
      expect(message).toContain(`set OPENAI_API_KEY to a valid key for ${guarded.baseUrl}`);
      expect(message).toContain('Not retried.');
      expect(guarded.requests()).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await guarded.close();
    }
  });

  it('every ticket reports its LLM calls, and they add up to its usage', async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    const taskQueue = uniqueQueue('llm-calls');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const runId = `${taskQueue}-run`;
    const result = await worker.runUntil(async () => {
      const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
        taskQueue,
        workflowId: runId,
        args: [{ goal: GOAL, roles } satisfies RunInput],
      });
      return (await handle.result()) as RunResult;
    });
    for (const t of result.tickets) {
      const outcome = (await harness.conn.client.workflow.getHandle(`${runId}/${t.id}`).result()) as TicketOutcome;
      const calls = outcome.calls ?? [];
      expect(calls.map((c) => c.kind)).toEqual(outcome.reviews.flatMap(() => ['work', 'review']));
      for (const c of calls) {
        expect(c).toMatchObject({ ticketId: t.id, model: 'maestro-sim', attempt: 1, repaired: false, taskQueue });
        expect(c.role).toBe(c.kind === 'work' ? t.role : 'boss');
        expect(c.promptTokens).toBeGreaterThan(0);
        expect(c.latencyMs).toBeGreaterThanOrEqual(0);
        expect(Number.isNaN(Date.parse(c.startedAt))).toBe(false);
        expect(c.workerIdentity).toBe(`${process.pid}@${os.hostname()}`);
      }
      const usd = calls.reduce((s, c) => s + c.usd, 0);
      expect(usd).toBeCloseTo(outcome.workUsage.usd + outcome.reviewUsage.usd, 6);
      expect(calls.filter((c) => c.kind === 'work').reduce((s, c) => s + c.promptTokens, 0)).toBe(
        outcome.workUsage.promptTokens,
      );
    }
  });
});
