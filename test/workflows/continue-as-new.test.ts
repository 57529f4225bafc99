/**
 * Continue-as-new of the orchestrator on the real dev server: a run whose history bound is forced
 * low continues as new several times while ticket gates are pending and people send decisions
 * and budget raises in a burst; nothing is lost, no LLM call is repeated, status keeps working.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, raiseBudgetSignal, statusQuery } from '../../src/shared/messages';
import type { RunInput } from '../../src/shared/types';
import { MAX_RAISE_ENTRIES } from '../../src/workflows/audit-limit';
import { waitForStatus } from '../helpers/runs';
import { TEST_ROLES, useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'can');

/** Run ids of a workflow's executions, following its continue-as-new chain from the first one. */
async function executions(handle: WorkflowHandle, firstRunId: string): Promise<string[]> {
  const chain = [firstRunId];
  for (;;) {
    const history = await harness.conn.client.workflow.getHandle(handle.workflowId, chain.at(-1)).fetchHistory();
    const next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return chain;
    chain.push(next);
  }
}

describe('orchestrator continue-as-new', () => {
  it('carries pending gates, decisions, budget and audit across executions; signals around it are not lost', async () => {
    harness.sim.clearRequests();
    const runId = `can-${Date.now()}`;
    // Six tickets, two at a time; the reviewer asks every ticket for a revision and none is
    // allowed, so each one waits at its gate with a result a person can approve anyway.
    const input: RunInput = {
      goal: 'Write a short guide to green tea [sim:tickets=6] [sim:width=6] [sim:revise=1]',
      roles: TEST_ROLES,
      maxParallel: 2,
      maxRevisions: 0,
      budget: { usd: 100 },
      maxHistoryEvents: 40,
    };
    const started = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue: runner.api.taskQueue,
      workflowId: runId,
      args: [input],
    });
    const handle = harness.conn.client.workflow.getHandle(runId);
    const waiting = await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 6, 90_000);
    expect(waiting.tickets.map((t) => t.state)).toEqual(Array(6).fill('escalated'));
    expect(waiting.audit.filter((a) => a.action === 'gate-opened')).toHaveLength(6);
    const before = await executions(handle, started.firstExecutionRunId);
    expect(before.length).toBeGreaterThan(1); // gates opened in earlier executions are still pending

    // Budget raises one right after the other until the run has continued as new meanwhile (each
    // signal adds events), so some arrive while an execution closes; then the decisions.
    const current = (await handle.describe()).runId;
    let raises = 0;
    while ((await handle.describe()).runId === current) {
      expect(raises).toBeLessThan(200);
      for (let k = 0; k < 4; k++, raises++)
        await handle.signal(raiseBudgetSignal, { usd: 0.5, by: `raiser-${raises}` });
    }
    for (const [i, gate] of waiting.pendingGates.entries()) {
      await handle.signal(raiseBudgetSignal, { usd: 0.5, by: `person-${i}` });
      await handle.signal(approveSignal, { gate: gate.id, by: `person-${i}` });
    }
    const r = await runner.api.result(runId);
    // Every ticket was accepted over its failed review by a person: honest, but not `completed`.
    expect(r.status).toBe('partial');
    expect(r.tickets.map((t) => t.state)).toEqual(Array(6).fill('accepted'));
    expect(r.tickets.every((t) => t.acceptedOverFailures)).toBe(true);
    expect(r.gates.map((g) => [g.id, g.state, g.decision?.by])).toEqual(
      waiting.pendingGates.map((g, i) => [g.id, 'approved', `person-${i}`]),
    );
    // Every raise is in the audit: listed, or folded into the last listed one past
    // MAX_RAISE_ENTRIES (audit-limit.ts) with its count in `repeats`.
    const raised = r.audit.filter((a) => a.action === 'raise-budget');
    expect(raised.length).toBeLessThanOrEqual(MAX_RAISE_ENTRIES);
    expect(raised.reduce((n, a) => n + 1 + (a.repeats ?? 0), 0)).toBe(raises + 6);
    const status = await handle.query(statusQuery);
    expect(status.budget).toEqual({ usd: 100 + 0.5 * (raises + 6) });
    expect(status.phase).toBe('completed');

    // Every LLM call ran once: plan, work and review per ticket, final report.
    expect(r.calls).toHaveLength(1 + 6 * 2 + 1);
    expect(harness.sim.requests()).toHaveLength(1 + 6 * 2 + 1);
    const after = await executions(handle, started.firstExecutionRunId);
    expect(after.indexOf(current)).toBeLessThan(after.length - 1); // continued during the raises
  });
});
