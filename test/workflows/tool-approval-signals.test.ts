/**
 * Tool approvals against hostile signals, on the suite's Temporal server with the real activities
 * and the simulated LLM: a `null` decision or request neither wedges the agent loop nor the run
 * (both still answer queries and can be cancelled), and a forged `maestro.toolApprovalDecision`
 * sent straight to the loop does not run the gated call; only the run's own answer to the gate
 * the person decided does.
 */
import type { RoleInfo } from '../../src/shared/types';
import { temporal } from '@temporalio/proto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { MaestroClient } from '../../src/client/api';
import { agentLoopWorkflowId, ticketWorkflowId } from '../../src/shared/constants';
import { agentLoopStatusQuery, toolApprovalDecisionSignal, toolApprovalRequestSignal } from '../../src/shared/messages';
import { MAX_TOOL_GATES_PER_TICKET } from '../../src/workflows/tool-approvals';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });

/** Every role an agent whose `list_files` needs a person's approval each time. */
const ROLES = TEST_ROLES.map((r): RoleInfo => ({
  ...r,
  agent: { tools: ['list_files', 'write_file'], approvals: { list_files: 'always' } },
}));

/** How many workflow tasks of a workflow failed (a wedged workflow fails its task over and over). */
async function failedTasks(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  ).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tool approval signals', () => {
  it('a null decision or request wedges neither the agent loop nor the run: both answer and cancel', async () => {
    const taskQueue = uniqueQueue('approval-null');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    await worker.runUntil(async () => {
      const runId = await api.start('Write a short guide to pruning roses [sim:tickets=1]', {
        runId: `${taskQueue}-run`,
        roles: ROLES,
      });
      await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 1);
      const client = harness.conn.client.workflow;
      const loop = client.getHandle(agentLoopWorkflowId(ticketWorkflowId(runId, 'T1'), 1));
      const run = client.getHandle(runId);
      await loop.signal(toolApprovalDecisionSignal, null as never);
      await run.signal(toolApprovalRequestSignal, null as never);
      await sleep(1500);
      expect(await failedTasks(loop)).toBe(0);
      expect(await failedTasks(run)).toBe(0);
      // Both still answer, and the gate still waits for a person.
      expect((await loop.query(agentLoopStatusQuery)).toolCalls).toEqual([]);
      expect((await api.status(runId)).pendingGates).toHaveLength(1);
      // Cancelling works (no terminate needed): the run ends cancelled, its children with it.
      await api.cancel(runId);
      const ended = await Promise.race([
        run.result().then(
          () => 'completed',
          (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.name ?? 'failed') : 'failed'),
        ),
        sleep(20_000).then(() => 'still running after 20 s'),
      ]);
      expect(ended).toBe('CancelledFailure');
    });
  });

  it('a forged decision sent to the loop runs nothing; the run’s own answer to the gate does', async () => {
    const taskQueue = uniqueQueue('approval-forged');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    await worker.runUntil(async () => {
      const runId = await api.start('Write a short guide to pruning roses [sim:tickets=1]', {
        runId: `${taskQueue}-run`,
        roles: ROLES,
      });
      const waiting = await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 1);
      const loop = harness.conn.client.workflow.getHandle(agentLoopWorkflowId(ticketWorkflowId(runId, 'T1'), 1));
      // The request ids a forger can guess (turn and the model's call id) and some it cannot.
      for (const requestId of ['1:call_sim_1_0', '1:call_sim_1_1', '0:call_sim_1_0', 'anything'])
        await loop.signal(toolApprovalDecisionSignal, { requestId, approved: true, by: 'mallory' });
      await sleep(2000);
      // The gated call did not run, and the run still shows its gate waiting.
      const loopStatus = await loop.query(agentLoopStatusQuery);
      expect(loopStatus.toolCalls).toEqual([]);
      // The loop dropped each forged decision and says why.
      expect(loopStatus.ignored).toHaveLength(4);
      expect(loopStatus.ignored![0]!.problem).toMatch(/request 1:call_sim_1_0, which is not waiting for one/);
      const still = await api.status(runId);
      expect(still.pendingGates.map((g) => g.id)).toEqual(waiting.pendingGates.map((g) => g.id));
      expect(await failedTasks(loop)).toBe(0);

      // A person's approval through the run runs the call, once.
      await api.decide(runId, { decision: 'approve', gate: waiting.pendingGates[0]!.id, by: 'ana' });
      const r = await api.result(runId);
      expect(r.status).toBe('completed');
      expect(r.toolCalls!.map((c) => `${c.tool} ${c.status}`)).toEqual(['list_files ok', 'write_file ok']);
      expect(r.audit.filter((a) => a.action === 'approve').map((a) => a.by)).toEqual(['ana']);
    });
  });

  it('forged requests with a real loop id cannot open gates without bound: one pending gate per loop, a few per ticket', async () => {
    const taskQueue = uniqueQueue('approval-flood');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    await worker.runUntil(async () => {
      const runId = await api.start('Write a short guide to pruning roses [sim:tickets=1]', {
        runId: `${taskQueue}-run`,
        roles: ROLES,
      });
      await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 1);
      const run = harness.conn.client.workflow.getHandle(runId);
      const loopId = (attempt: number) => agentLoopWorkflowId(ticketWorkflowId(runId, 'T1'), attempt);
      const forged = (attempt: number, i: number) =>
        run.signal(toolApprovalRequestSignal, {
          ticketId: 'T1',
          loopWorkflowId: loopId(attempt),
          requestId: `forged-${attempt}-${i}`,
          tool: 'list_files',
          call: `list_files ${'x'.repeat(60_000)}`,
          approval: 'always',
        });
      // 20 more from the loop that already waits, and one from each of 20 attempts that never ran.
      await Promise.all(Array.from({ length: 20 }, (_, i) => forged(1, i)));
      await Promise.all(Array.from({ length: 20 }, (_, i) => forged(i + 2, 0)));
      const s = await waitForStatus(
        harness.conn.client,
        runId,
        (st) => st.audit.some((a) => a.action === 'ignored-toolApprovalRequest') || st.pendingGates.length >= 41,
        15_000,
        'the forged requests handled',
      );
      expect(s.pendingGates.length).toBeLessThanOrEqual(MAX_TOOL_GATES_PER_TICKET);
      expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(1024 * 1024);
      await api.cancel(runId);
    });
  });
});
