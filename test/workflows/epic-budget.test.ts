/**
 * One budget for the whole tree of a run with epics, on the suite's Temporal server with the
 * simulated LLM: epics running in parallel draw their calls from the top run's permits, so the
 * tree passes the cap by at most one call (as a flat run does), the person decides at the top
 * run's budget gate (raise or approve to go on, reject to stop and keep what is done), and a
 * retried epic's new sub-Boss sees the person's comment.
 */
import { SCHEMA_NAMES, ticketWorkflowId } from '../../src/shared/constants';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import type { RunInput, RunStatus } from '../../src/shared/types';
import { waitForStatus, replayOnTestBundle } from '../helpers/runs';
import { TEST_ROLES, useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'epic-budget');

/** Tokens the provider billed for a request (0 for faults and calls still open). */
const billed = (q: SimRequestRecord) => (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0);
const billedTotal = () => harness.sim.requests().reduce((n, q) => n + billed(q), 0);

/** Waits until the simulated LLM has had no request open and no new one for `quietMs`. */
async function quiet(quietMs = 1500, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const reqs = harness.sim.requests();
    const open = reqs.some((q) => q.status === 0);
    if (open || reqs.length !== seen) {
      seen = reqs.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the simulated LLM never went quiet');
}

/** A budget gate pending anywhere in the tree (the top run or one of its sub-runs). */
async function budgetGateSomewhere(runId: string): Promise<RunStatus> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const s = await runner.api.status(runId).catch(() => undefined);
    const gates = [...(s?.pendingGates ?? []), ...(s?.subRuns ?? []).flatMap((v) => v.pendingGates)];
    if (s && gates.some((g) => g.kind === 'budget')) return s;
    if (Date.now() > deadline)
      throw new Error(`no budget gate opened in ${runId}: ${JSON.stringify(s)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const GOAL = 'Field notes on the salt marshes of Ebbmoor [sim:epics=3] [sim:tickets=4] [sim:width=4]';

describe('a budget shared by the whole tree of epics', () => {
  it('3 epics in parallel pass the top cap by at most one call; the gate is the top run’s, and a raise lets every level go on', async () => {
    // What this goal's calls cost without a budget (the simulated LLM answers the same goal alike).
    harness.sim.clearRequests();
    const probe = await runner.api.result(await runner.start(GOAL, { epics: true, maxParallel: 4 }));
    expect(probe.status).toBe('completed');
    const probeReqs = harness.sim.requests();
    const topPlan = billed(probeReqs[0]!);
    const total = probeReqs.reduce((n, q) => n + billed(q), 0);
    // Room for a quarter of what the epics need after the top plan: each epic alone needs a third.
    const cap = topPlan + Math.round((total - topPlan) / 4);

    harness.sim.clearRequests();
    const runId = await runner.start(GOAL, { epics: true, maxParallel: 4, budget: { tokens: cap } });
    await budgetGateSomewhere(runId);
    await quiet();
    const spent = billedTotal();
    // "One call": the dearest call of the tree after the top plan (sub-plans included).
    const dearest = Math.max(...harness.sim.requests().slice(1).map(billed));
    expect(spent).toBeGreaterThanOrEqual(cap);
    expect(spent - cap).toBeLessThanOrEqual(dearest);
    // The person decides at the top run, which has booked every call of the tree so far.
    const top = await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.cost.tokens === billedTotal(),
      15_000,
      'the whole tree’s spending booked at the top',
    );
    expect(top.pendingGates.map((g) => g.kind)).toEqual(['budget']);
    const status = await runner.api.status(runId);
    for (const v of status.subRuns ?? []) expect(v.pendingGates).toEqual([]);

    await runner.api.raiseBudget(runId, { tokens: total * 4, by: 'ops' });
    const r = await runner.api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.manifest).toHaveLength(12);
    // Every call of the tree is on the top run's bill, once.
    expect(r.cost.tokens).toBe(billedTotal());
    expect(r.cost.usage.calls).toBe(harness.sim.requests().length);
    // The permit traffic between the levels replays without non-determinism.
    for (const id of [runId, ticketWorkflowId(runId, 'T2')]) {
      const history = await harness.conn.client.workflow.getHandle(id).fetchHistory();
      await replayOnTestBundle(history, id);
    }
  }, 240_000);

  it('rejecting the top budget gate stops every level and keeps the epics already accepted', async () => {
    harness.sim.clearRequests();
    const probe = await runner.api.result(
      await runner.start('Pottery of Ebbmoor [sim:epics=3] [sim:tickets=3] [sim:width=3]', {
        epics: true,
        maxParallel: 1,
      }),
    );
    expect(probe.status).toBe('completed');
    const reqs = harness.sim.requests();
    const total = reqs.reduce((n, q) => n + billed(q), 0);
    const topPlan = billed(reqs[0]!);
    // One epic after another (maxParallel 1): room for the first epic and half of the second.
    const cap = topPlan + Math.round(((total - topPlan) / 3) * 1.5);

    harness.sim.clearRequests();
    const runId = await runner.start('Pottery of Ebbmoor [sim:epics=3] [sim:tickets=3] [sim:width=3]', {
      epics: true,
      maxParallel: 1,
      budget: { tokens: cap },
    });
    await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.pendingGates[0]?.kind === 'budget',
      90_000,
      'a budget gate at the top run',
    );
    await runner.api.decide(runId, { decision: 'reject', by: 'ops', comment: 'enough' });
    const r = await runner.api.result(runId);
    expect(r.status).toBe('stopped');
    expect(r.tickets.find((t) => t.id === 'T1')?.state).toBe('accepted');
    expect(r.manifest.map((f) => f.path)).toEqual(
      expect.arrayContaining(['T1/parts/part-1.md', 'T1/parts/part-2.md', 'T1/parts/part-3.md']),
    );
    expect(r.tickets.find((t) => t.id === 'T3')?.state).toBe('skipped');
    // The epic running at the gate was not cancelled: its sub-run stopped on its own, and what it
    // had accepted is kept (its files under T2/ and its report as the epic's result).
    const sub = await runner.api.result(ticketWorkflowId(runId, 'T2'));
    expect(sub.status).toBe('stopped');
    expect(sub.audit.map((a) => a.action)).toContain('budget-stopped');
    expect(sub.manifest.length).toBeGreaterThan(0);
    expect(r.manifest.map((f) => f.path)).toEqual(expect.arrayContaining(sub.manifest.map((f) => `T2/${f.path}`)));
    // Accepted for what its sub-run finished, and never counted as a success on its merits.
    const t2 = r.tickets.find((t) => t.id === 'T2');
    expect(t2).toMatchObject({
      state: 'accepted',
      acceptedOverFailures: true,
      overruled: expect.stringContaining('stopped at the budget: the accepted part of its sub-run is kept'),
    });
    expect(t2?.error).toBeUndefined();
    expect(r.report.summary).toContain('T2 Epic 2 of 3');
    await quiet();
    expect(billedTotal() - cap).toBeLessThanOrEqual(Math.max(...harness.sim.requests().slice(1).map(billed)));
    expect(r.cost.tokens).toBe(billedTotal());
  }, 240_000);
});

describe('one budget across continue-as-new', () => {
  it('sub-runs that continue as new keep drawing on the top run’s permits, and the bill stays exact', async () => {
    const goal = 'Tide tables of Ebbmoor [sim:epics=2] [sim:tickets=6] [sim:width=2]';
    harness.sim.clearRequests();
    const probe = await runner.api.result(await runner.start(goal, { epics: true, maxParallel: 2 }));
    const total = harness.sim.requests().reduce((n, q) => n + billed(q), 0);
    expect(probe.status).toBe('completed');

    harness.sim.clearRequests();
    // Small history bounds: every level continues as new several times; the cap is half the need.
    const runId = `epic-budget-can-${Date.now()}`;
    const input: RunInput = {
      goal,
      roles: TEST_ROLES,
      epics: true,
      maxParallel: 2,
      budget: { tokens: Math.round(total / 2) },
      maxHistoryEvents: 60,
    };
    await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue: runner.api.taskQueue,
      workflowId: runId,
      args: [input],
    });
    await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.pendingGates[0]?.kind === 'budget',
      90_000,
      'the budget gate',
    );
    await quiet();
    expect(billedTotal() - Math.round(total / 2)).toBeLessThanOrEqual(Math.max(...harness.sim.requests().map(billed)));
    await runner.api.decide(runId, { decision: 'approve', by: 'ops' });
    const r = await runner.api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.cost.tokens).toBe(billedTotal());
    expect(r.calls).toHaveLength(harness.sim.requests().length);
    for (const id of ['T1', 'T2']) {
      const history = await harness.conn.client.workflow.getHandle(ticketWorkflowId(runId, id)).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(started?.continuedExecutionRunId).toBeTruthy();
    }
  }, 240_000);
});

describe('retrying an epic', () => {
  it('a person’s comment at the epic’s ticket gate reaches the new sub-Boss’s plan prompt', async () => {
    harness.sim.clearRequests();
    // Each sub-run's final gate times out and rejects: the sub-run ends `rejected`, so its epic
    // escalates at the top run's ticket gate.
    const runId = await runner.start('Lanterns of Ebbmoor [sim:epics=1] [sim:tickets=2]', {
      epics: true,
      finalApproval: 'manual',
      gatePolicies: { final: { timeoutMs: 50, onTimeout: 'reject' } },
    });
    const gate = await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.pendingGates[0]?.kind === 'ticket',
      90_000,
      'the epic escalated at the ticket gate',
    );
    expect(gate.pendingGates[0]?.reason).toContain('sub-run ended rejected');
    const comment = 'Cover the lamp oil shortage of the winter storms too';
    await runner.api.decide(runId, { decision: 'retry', by: 'ana', comment });
    await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.pendingGates[0]?.kind === 'ticket' && s.pendingGates[0]?.id !== gate.pendingGates[0]?.id,
      90_000,
      'the retried epic at its gate again',
    );
    const subPlans = harness.sim
      .requests()
      .filter((q) => q.schemaName === SCHEMA_NAMES.plan && JSON.stringify(q.messages).includes('Epic T1'));
    expect(subPlans).toHaveLength(2);
    expect(JSON.stringify(subPlans[0]!.messages)).not.toContain(comment);
    expect(JSON.stringify(subPlans[1]!.messages)).toContain(comment);
    // The sub-run's own status shows the goal it was given, with the comment.
    const sub = await runner.api.status(ticketWorkflowId(runId, 'T1'));
    expect(sub.goal).toContain(comment);
    await runner.api.decide(runId, { decision: 'skip', by: 'ana' });
    await runner.api.result(runId).catch(() => undefined);
  }, 240_000);
});
