/**
 * Promises of the gates under hostile conditions (issue 8): a timeout never becomes a retry, a
 * decision lands only on the gate the person saw, a ticket without a result cannot be approved,
 * a content failure costs a bounded number of calls (every one billed), planning that keeps
 * failing ends, and a cancelled run waits for its children. Real dev server, real activities,
 * the simulated LLM with fault injection.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { MaestroClient, StartRunOptions } from '../../src/client/api';
import { answerGate } from '../../src/client/gate-prompt';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { approveSignal, decideUpdate, raiseBudgetSignal, rejectSignal } from '../../src/shared/messages';
import type { RunStatus } from '../../src/shared/types';
import { waitForStatus } from '../helpers/runs';
import { useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const GOAL = 'Build a landing page for a bakery called Rise and Shine';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'promises');
const start = (goal: string, opts: StartRunOptions) => runner.start(goal, opts);
let api: MaestroClient;
beforeAll(() => (api = runner.api));
afterEach(() => harness.sim.clearFaults());

const handle = (runId: string) => harness.conn.client.workflow.getHandle(runId);
const until = (runId: string, pred: (s: RunStatus) => boolean) => waitForStatus(harness.conn.client, runId, pred);

/** The run's failure message, or a clear failure when it does not end within `ms`. */
async function failureOf(runId: string, ms = 60_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    api.result(runId).then(
      () => 'completed',
      (e: unknown) => e,
    ),
    new Promise((r) => (timer = setTimeout(() => r('still running'), ms))),
  ]).finally(() => clearTimeout(timer));
  if (!(ended instanceof WorkflowFailedError)) throw new Error(`run ${runId} did not fail: ${String(ended)}`);
  return ended.cause?.message ?? '';
}

/**
 * Requests the simulated LLM saw for a schema: of a goal (by words only that goal has) or, for
 * ticket work (whose prompt has no goal), of a ticket since the last `clearRequests`.
 */
const requestsOf = (marker: string | undefined, schemaName: string, ticketId?: string) =>
  harness.sim
    .requests()
    .filter(
      (q) =>
        q.schemaName === schemaName &&
        (ticketId === undefined || q.ticketId === ticketId) &&
        (marker === undefined || q.messages.some((m) => m.content.includes(marker))),
    );

describe('a gate timeout never becomes a retry', () => {
  it('ticket gate, policy reject: the ticket is skipped once, never started again', async () => {
    harness.sim.clearRequests();
    const runId = await start(`${GOAL} with a bread menu [sim:revise=9]`, {
      maxRevisions: 0,
      gatePolicies: { ticket: { timeoutMs: 300, onTimeout: 'reject' } },
    });
    const message = await failureOf(runId, 30_000);
    expect(message).toMatch(/^no ticket was accepted, so the run produced nothing: T1 skipped/);
    const s = await api.status(runId);
    expect(s.tickets.find((t) => t.id === 'T1')).toMatchObject({ state: 'skipped', attempts: 1 });
    expect(requestsOf(undefined, SCHEMA_NAMES.work, 'T1')).toHaveLength(1);
    expect(s.audit.filter((a) => a.ticketId === 'T1' && a.action === 'gate-opened')).toHaveLength(1);
    expect(s.audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ by: 'timeout-policy', action: 'skip', ticketId: 'T1' })]),
    );
  });

  it('plan gate, policy reject: the run fails instead of re-planning', async () => {
    const runId = await start(`${GOAL} with a croissant page`, {
      planApproval: 'manual',
      gatePolicies: { plan: { timeoutMs: 300, onTimeout: 'reject' } },
    });
    expect(await failureOf(runId)).toContain('the plan gate (plan#1) timed out without a decision');
    expect(requestsOf('croissant page', SCHEMA_NAMES.plan)).toHaveLength(1);
  });

  it('final gate, policy reject: the run ends rejected without a revision', async () => {
    const runId = await start(`${GOAL} with a cake gallery`, {
      finalApproval: 'manual',
      gatePolicies: { final: { timeoutMs: 300, onTimeout: 'reject' } },
    });
    const r = await api.result(runId);
    expect(r.status).toBe('rejected');
    expect(requestsOf('cake gallery', SCHEMA_NAMES.final)).toHaveLength(1);
  });
});

describe('a decision lands only on the gate the person saw', () => {
  it('refuses (update) or audits and ignores (signal) a decision for a gate that is no longer pending', async () => {
    const runId = await start(`${GOAL} with a pastry page`, { planApproval: 'manual' });
    await until(runId, (s) => s.pendingGates[0]?.id === 'plan#1');
    await api.decide(runId, { gate: 'plan#1', decision: 'reject', by: 'ana', comment: 'Add prices.' });
    await until(runId, (s) => s.pendingGates[0]?.id === 'plan#2');

    // Bob saw plan#1; his approval must not approve plan#2.
    await expect(api.decide(runId, { gate: 'plan#1', decision: 'approve', by: 'bob' })).rejects.toThrow(
      /gate plan#1 is no longer pending: it was rejected by ana at .*; pending now: plan#2/,
    );
    await handle(runId).signal(approveSignal, { gate: 'plan#1', by: 'bob' });
    await handle(runId).signal(approveSignal, { gateId: 'plan#1', by: 'bob' });
    await expect(api.decide(runId, { gate: 'plan#7', decision: 'approve' })).rejects.toThrow(
      /this run has no gate plan#7; pending now: plan#2/,
    );
    await expect(api.decide(runId, { gate: 'final#2', decision: 'approve' })).rejects.toThrow(/no gate final#2/);
    await expect(api.decide(runId, { gate: 'plan#2', gateId: 'plan#1', decision: 'approve' })).rejects.toThrow(
      /name different gates/,
    );
    await expect(api.decide(runId, { gate: 'plan 2', decision: 'approve' })).rejects.toThrow(
      /invalid decision: gate: give a gate kind .* or a gate id such as plan#2/,
    );
    // The same ignored signal twice is one audit entry with a repeat count (audit-limit.ts).
    const ignored = (st: RunStatus) => st.audit.filter((a) => a.action === 'ignored-approve');
    const s = await until(runId, (st) => ignored(st).reduce((n, a) => n + 1 + (a.repeats ?? 0), 0) === 2);
    expect(s.pendingGates.map((g) => g.id)).toEqual(['plan#2']);
    expect(ignored(s)).toEqual([
      expect.objectContaining({
        by: 'bob',
        gate: 'plan#1',
        error: expect.stringContaining('no longer pending'),
        repeats: 1,
      }),
    ]);

    // --yes answers the gate it showed: a stale view is refused, not applied to the next gate.
    const stale = s.pendingGates[0]!;
    await api.decide(runId, { gateId: 'plan#2', decision: 'reject', by: 'ana', comment: 'Add opening hours.' });
    await until(runId, (st) => st.pendingGates[0]?.id === 'plan#3');
    await expect(answerGate(api, runId, stale, 'yes', () => undefined)).rejects.toThrow(/plan#2 is no longer pending/);
    const fresh = (await api.status(runId)).pendingGates[0]!;
    await answerGate(api, runId, fresh, 'yes', () => undefined);
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.gates.map((g) => [g.id, g.state, g.decision?.by])).toEqual([
      ['plan#1', 'rejected', 'ana'],
      ['plan#2', 'rejected', 'ana'],
      ['plan#3', 'approved', expect.stringContaining('(--yes)')],
    ]);
  });

  it('survives junk on every public handler: audited, ignored, the run goes on', async () => {
    const runId = await start(`${GOAL} with a coffee corner`, { planApproval: 'manual', budget: { usd: 5 } });
    await until(runId, (s) => s.pendingGates.length === 1);
    const junk: unknown[] = [null, 42, 'approve', [], { gate: 5 }, { by: 'x'.repeat(5000) }, { ticketId: {} }];
    for (const j of junk) {
      await handle(runId).signal(approveSignal, j as never);
      await handle(runId).signal(rejectSignal, j as never);
      await handle(runId).signal(raiseBudgetSignal, j as never);
      await expect(handle(runId).executeUpdate(decideUpdate, { args: [j as never] })).rejects.toMatchObject({
        cause: { type: 'MaestroBadInput', message: expect.stringMatching(/^invalid decision: /) },
      });
    }
    const s = await until(runId, (st) => st.audit.filter((a) => a.action.startsWith('ignored-')).length === 21);
    expect(s.pendingGates.map((g) => g.id)).toEqual(['plan#1']);
    expect(s.phase).toBe('planning');
    await api.decide(runId, { gate: 'plan#1', decision: 'approve', by: 'ivy' });
    expect((await api.result(runId)).status).toBe('completed');
  });
});

describe('a ticket without a result cannot be approved', () => {
  it('offers retry, skip or abort only; --yes skips it; a run that produced nothing fails', async () => {
    harness.sim.injectFault({ kind: 'schema-invalid', times: 1000, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await start(`${GOAL} with a sourdough guide`, { maxParallel: 1 });
    const s = await until(runId, (st) => st.pendingGates.length === 1);
    const gate = s.pendingGates[0]!;
    expect(gate).toMatchObject({ kind: 'ticket', ticketId: 'T1', decisions: ['reject', 'retry', 'skip', 'abort'] });
    expect(gate.reason).toContain('there is no result to approve');
    await expect(api.decide(runId, { gate: gate.id, decision: 'approve', by: 'kim' })).rejects.toThrow(
      /a ticket gate takes reject or retry or skip or abort, not approve: T1 has no result to accept/,
    );
    await handle(runId).signal(approveSignal, { gate: gate.id, by: 'kim' });
    await until(runId, (st) => st.audit.some((a) => a.action === 'ignored-approve'));
    // What `maestro run --yes` does: answer every gate as it opens.
    const answered = new Set<string>();
    const ended = api.result(runId).then(
      () => 'completed',
      (e: unknown) => (e instanceof WorkflowFailedError ? (e.cause?.message ?? '') : String(e)),
    );
    let message: string | undefined;
    void ended.then((m) => (message = m));
    while (message === undefined) {
      for (const g of (await api.status(runId)).pendingGates) {
        if (answered.has(g.id)) continue;
        answered.add(g.id);
        await answerGate(api, runId, g, 'yes', () => undefined);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(message).toMatch(/^no ticket was accepted, so the run produced nothing: T1 skipped \(skipped by .*--yes/);
    const r = await api.status(runId);
    expect(r.tickets.every((t) => ['skipped', 'blocked'].includes(t.state))).toBe(true);
    expect(r.audit.filter((a) => a.action === 'approve')).toEqual([]);
  });
});

describe('a bad answer costs a bounded number of calls, every one billed', () => {
  it('a work answer that never validates: call + repair, one fresh attempt, then the ticket gate', async () => {
    harness.sim.injectFault({
      kind: 'schema-invalid',
      times: 6,
      match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T1' },
    });
    harness.sim.clearRequests();
    const runId = await start(`${GOAL} with a rye section`, {});
    const s = await until(runId, (st) => st.pendingGates.some((g) => g.ticketId === 'T1'));
    expect(requestsOf(undefined, SCHEMA_NAMES.work, 'T1')).toHaveLength(4);
    const t1 = s.tickets.find((t) => t.id === 'T1')!;
    expect(t1.state).toBe('failed');
    expect(t1.error).toContain('gave up after 2 attempt(s) with a repair each');
    expect(t1.usage.calls).toBe(4); // failed calls are paid for, so they are billed
    expect(t1.usage.usd).toBeGreaterThan(0);
    await api.decide(runId, { ticketId: 'T1', decision: 'abort', by: 'test' });
    await api.result(runId).catch(() => undefined);
  });

  it('transport failures keep their retries with backoff', async () => {
    harness.sim.injectFault({ kind: 'server-error', times: 2, match: { schemaName: SCHEMA_NAMES.plan } });
    const r = await api.result(await start(`${GOAL} with a flaky provider`, {}));
    expect(r.status).toBe('completed');
    expect(r.calls.filter((c) => c.kind === 'plan').map((c) => c.error ?? 'ok')).toEqual([
      'MaestroLlmUnavailable',
      'MaestroLlmUnavailable',
      'ok',
    ]);
  });

  it('planning that never produces a valid plan ends after (maxReplans + 1) x 2 calls with the last problems', async () => {
    harness.sim.injectFault({ kind: 'schema-invalid', times: 1000, match: { schemaName: SCHEMA_NAMES.plan } });
    const runId = await start(`${GOAL} with a muffin list`, { maxReplans: 2 });
    const message = await failureOf(runId);
    expect(message).toMatch(/^the Boss produced no valid plan in 3 attempts \(--max-replans 2\); last problems: /);
    expect(message).toContain('does not match the schema');
    expect(requestsOf('muffin list', SCHEMA_NAMES.plan)).toHaveLength(6);
    const s = await api.status(runId);
    expect(s.cost.usage.calls).toBe(6);
    expect(s.pendingGates).toEqual([]);
  });
});

describe('cancelling a run', () => {
  it('waits for its children and reports their final states', async () => {
    harness.sim.injectFault({ kind: 'hang', times: 1000, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await start(`${GOAL} with a cancelled order`, {});
    await until(runId, (s) => s.tickets.some((t) => t.state === 'running'));
    await new Promise((r) => setTimeout(r, 500)); // the children's calls are in flight
    await handle(runId).cancel();
    // A cancelled run reads back (issue 22): what it had accepted, with status cancelled.
    await expect(api.result(runId)).resolves.toMatchObject({ status: 'cancelled' });
    const s = await api.status(runId);
    expect(s.phase).toBe('cancelled');
    expect(s.tickets.filter((t) => t.state === 'running')).toEqual([]);
    expect(s.tickets.find((t) => t.id === 'T1')).toMatchObject({ state: 'skipped', error: 'the run was cancelled' });
    const child = await harness.conn.client.workflow.getHandle(s.tickets[0]!.childId).describe();
    expect(child.status.name).toBe('CANCELLED');
  });
});
