/**
 * Epics run by sub-Bosses, on the suite's Temporal server with the simulated LLM: the top Boss
 * plans epics, each runs as a child orchestrator that plans and runs its own tickets, sees only
 * its epic, draws on the parent's budget, rolls its spending and files up,
 * and has gates a person reaches through the top run's status.
 */
import { ticketWorkflowId, SCHEMA_NAMES } from '../../src/shared/constants';
import { spendGrantSignal, spendReportSignal, statusQuery } from '../../src/shared/messages';
import { waitForStatus, replayOnTestBundle } from '../helpers/runs';
import { useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'epics');

/** The run's Web UI "current details" (Temporal's built-in metadata query) once `ok` holds. */
async function waitForDetails(runId: string, ok: (details: string) => boolean): Promise<string> {
  const deadline = Date.now() + 30_000;
  let details = '';
  while (Date.now() < deadline) {
    const meta = await harness.conn.client.workflow
      .getHandle(runId)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    details = meta.currentDetails ?? '';
    if (ok(details)) return details;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the details of ${runId} never matched; last:\n${details}`);
}

describe('epics run by sub-Bosses', () => {
  it('a plan of 3 epics runs 3 sub-runs of 4 tickets each; sub-Bosses see their epic, not the goal', async () => {
    const goal =
      'Write the handbook of the Quiet Lighthouse guild. Its keeper is called Orla Brannigan. [sim:epics=3] [sim:tickets=4] [sim:width=4]';
    harness.sim.clearRequests();
    const runId = await runner.start(goal, { epics: true, maxParallel: 4 });
    const r = await runner.api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.tickets.map((t) => [t.id, t.role, t.state])).toEqual([
      ['T1', 'boss', 'accepted'],
      ['T2', 'boss', 'accepted'],
      ['T3', 'boss', 'accepted'],
    ]);
    // Each epic's files land under its id; 3 × 4 files in all.
    expect(r.manifest).toHaveLength(12);
    expect(r.manifest.map((f) => f.path)).toContain('T2/parts/part-4.md');
    // The sub-runs are the epics' child workflows, with 4 accepted tickets each.
    const sub = await runner.api.result(ticketWorkflowId(runId, 'T2'));
    expect(sub.tickets.filter((t) => t.state === 'accepted')).toHaveLength(4);
    // Cost rolls up by role: the writers' spending of the sub-runs shows in the top run.
    const workerUsd = Object.entries(r.cost.byRole)
      .filter(([role]) => role !== 'boss')
      .reduce((s, [, u]) => s + u.usd, 0);
    expect(workerUsd).toBeGreaterThan(0);
    const calls = harness.sim.requests().filter((q) => q.status === 200);
    expect(r.calls).toHaveLength(calls.filter((q) => q.schemaName !== undefined).length);
    expect(r.cost.usage.calls).toBe(r.calls.length);
    // 1 top plan + 3 sub-plans; the sub-Bosses' plan prompts hold their epic but not the goal.
    const plans = calls.filter((q) => q.schemaName === SCHEMA_NAMES.plan);
    expect(plans).toHaveLength(4);
    const subPlans = plans.filter((q) => JSON.stringify(q.messages).includes('Epic T'));
    expect(subPlans).toHaveLength(3);
    expect(JSON.stringify(plans.find((p) => !subPlans.includes(p))?.messages)).toContain('Orla Brannigan');
    for (const p of subPlans) {
      const text = JSON.stringify(p.messages);
      expect(text).not.toContain('Orla Brannigan');
      // ... nor the other epics.
      expect(text.match(/Epic T\d/g)).toHaveLength(1);
    }
  }, 120_000);

  it('the histories of a run with epics and of its sub-run replay without non-determinism', async () => {
    const runId = await runner.start('Notes on knots [sim:epics=2] [sim:tickets=2]', { epics: true });
    expect((await runner.api.result(runId)).status).toBe('completed');
    for (const id of [runId, ticketWorkflowId(runId, 'T2')]) {
      const history = await harness.conn.client.workflow.getHandle(id).fetchHistory();
      const markers = history.events?.filter((e) => e.markerRecordedEventAttributes) ?? [];
      if (id === runId) expect(markers.length).toBeGreaterThan(0); // the epics patch is on record
      await replayOnTestBundle(history, id);
    }
  }, 120_000);

  it('a sub-run never plans epics itself (depth bound), draws on the parent’s budget, and ignores junk permit signals', async () => {
    harness.sim.clearRequests();
    const runId = await runner.start('Notes on tides [sim:epics=2] [sim:tickets=2]', {
      epics: true,
      budget: { usd: 5 },
      planApproval: 'manual',
    });
    await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'plan');
    await runner.api.decide(runId, { decision: 'approve', by: 'ana' });
    const subId = ticketWorkflowId(runId, 'T1');
    await waitForStatus(harness.conn.client, subId, (s) => s.pendingGates[0]?.kind === 'plan', 60_000);
    // Forged and malformed internal signals, at both levels: audited and ignored, nothing wedges.
    const sub = harness.conn.client.workflow.getHandle(subId);
    for (const junk of [null, 'x', { seq: 1e9 }, { seq: 1, calls: -1 }]) await sub.signal(spendGrantSignal.name, junk);
    await sub.signal(spendReportSignal.name, { ticketId: 'T1', kind: 'work', usage: 'lots' });
    const usage = { promptTokens: 1e6, cachedTokens: 0, completionTokens: 0, usd: 100, calls: 1 };
    const top = harness.conn.client.workflow.getHandle(runId);
    // A sub-run's spending report with no permit open, and one with a negative figure.
    await top.signal(spendReportSignal, {
      ticketId: 'T1',
      kind: 'work',
      usage,
      seq: 77,
      spentByRole: { writer: usage },
    });
    await top.signal(spendReportSignal.name, {
      ticketId: 'T1',
      kind: 'work',
      usage,
      spentByRole: { writer: { ...usage, usd: -1 } },
    });
    const subStatus = await waitForStatus(
      harness.conn.client,
      subId,
      (s) =>
        s.audit.filter((a) => a.action.startsWith('ignored-spend')).reduce((n, a) => n + 1 + (a.repeats ?? 0), 0) >= 5,
      15_000,
      'five ignored permit signals in the sub-run',
    );
    // The sub-run has no cap of its own: the top run's budget is the tree's.
    expect(subStatus.budget).toBeUndefined();
    await waitForStatus(
      harness.conn.client,
      runId,
      (s) =>
        s.audit.filter((a) => a.action === 'ignored-spendReport').reduce((n, a) => n + 1 + (a.repeats ?? 0), 0) >= 2,
      15_000,
      'two ignored spending reports in the top run',
    );
    for (const id of ['T1', 'T2']) {
      const h = ticketWorkflowId(runId, id);
      await waitForStatus(harness.conn.client, h, (s) => s.pendingGates[0]?.kind === 'plan', 60_000);
      await runner.api.decide(h, { decision: 'approve', by: 'ana' });
    }
    const r = await runner.api.result(runId);
    expect(r.status).toBe('completed');
    // The sub-Boss was offered no `boss` role: its tickets are worker tickets.
    const done = await harness.conn.client.workflow.getHandle(subId).query(statusQuery);
    expect(done.tickets.every((t) => t.role !== 'boss')).toBe(true);
    // Nothing forged was booked: the run's bill is the calls the simulated LLM answered.
    const billed = harness.sim
      .requests()
      .reduce((n, q) => n + (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0), 0);
    expect(r.cost.tokens).toBe(billed);
    expect(r.cost.usd).toBeLessThan(5);
  }, 120_000);

  it('gates of a sub-run are listed by its run id and decided there', async () => {
    const runId = await runner.start('Recipes of the harbour [sim:epics=1] [sim:tickets=2]', {
      epics: true,
      planApproval: 'manual',
    });
    await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'plan');
    await runner.api.decide(runId, { decision: 'approve', by: 'top-lead' });
    const subId = ticketWorkflowId(runId, 'T1');
    await waitForStatus(harness.conn.client, subId, (s) => s.pendingGates[0]?.kind === 'plan', 60_000);
    // The top run's status lists the sub-run's gate under its epic.
    const top = await runner.api.status(runId);
    expect(top.pendingGates).toEqual([]);
    expect(top.subRuns).toEqual([
      expect.objectContaining({
        ticketId: 'T1',
        runId: subId,
        pendingGates: [expect.objectContaining({ id: 'plan#1' })],
      }),
    ]);
    // ... and so do the top run's Web UI details, with the epic's progress on its row.
    const details = await waitForDetails(runId, (d) => d.includes('Waiting for a person in epic T1'));
    expect(details).toContain(`maestro approve ${runId} --epic T1 --gate plan#1`);
    expect(details).toMatch(/\| T1 \| boss \| running \| .*\[2 pending\] \|/);
    await runner.api.decide(subId, { decision: 'approve', by: 'epic-lead' });
    const r = await runner.api.result(runId);
    expect(r.status).toBe('completed');
    const sub = await runner.api.result(subId);
    expect(sub.gates[0]?.decision?.by).toBe('epic-lead');
    const done = await waitForDetails(runId, (d) => d.includes('completed'));
    expect(done).not.toContain('Waiting for a person');
    expect(done).toMatch(/\| T1 \| boss \| accepted \| .*\[2 accepted\] \|/);
  }, 120_000);
});
