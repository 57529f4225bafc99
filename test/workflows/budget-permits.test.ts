/**
 * The budget-permit protocol between a budgeted run and its ticket children, under hostile
 * conditions: forged or malformed internal signals, and LLM calls that fail, are rate limited
 * or need repairs. What a person relying on "spending passes the cap by at most one call" would
 * notice: the recorded spend, the audit log, and whether the run still moves.
 */
import { describeFailure, MaestroClient, type StartRunOptions } from '../../src/client/api';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import {
  approveSignal,
  raiseBudgetSignal,
  spendGrantSignal,
  spendReportSignal,
  spendRequestSignal,
} from '../../src/shared/messages';
import type { RunStatus } from '../../src/shared/types';
import { waitForStatus } from '../helpers/runs';
import { useRunWorker } from '../helpers/run-worker';
import { testDeps, testWorker, TEST_ROLES, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const GOAL = 'Build a landing page for a coffee shop called Bean There';

const harness = useSimAndTemporal({ port: 0 });
const env = useRunWorker(harness, 'permits');

let counter = 0;
async function start(opts: StartRunOptions): Promise<string> {
  return env.api.start(GOAL, { runId: `permits-${Date.now()}-${++counter}`, ...opts });
}
const handle = (runId: string) => harness.conn.client.workflow.getHandle(runId);

/** The signals a run's history received, by name, with their payloads decoded (JSON). */
async function signalsReceived(runId: string): Promise<{ name: string; payload: unknown }[]> {
  return (await handle(runId).fetchHistory()).events!.flatMap((e) => {
    const a = e.workflowExecutionSignaledEventAttributes;
    const data = a?.input?.payloads?.[0]?.data;
    return a?.signalName
      ? [
          {
            name: a.signalName,
            payload: data ? (JSON.parse(Buffer.from(data).toString('utf8')) as unknown) : undefined,
          },
        ]
      : [];
  });
}

describe('internal permit signals', () => {
  it('audits and ignores malformed and forged permit signals; the run neither wedges nor loses spend', async () => {
    const runId = await start({ budget: { usd: 5 }, planApproval: 'manual' });
    const waiting = await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'plan');
    const spent = waiting.cost.usd;
    const h = handle(runId);
    const junk: unknown[] = [null, 'x', { ticketId: 'T1' }, { ticketId: 'T1', seq: -1 }, { ticketId: 'T99', seq: 1 }];
    for (const payload of junk) await h.signal(spendRequestSignal.name, payload);
    const negative = { promptTokens: 10, cachedTokens: 0, completionTokens: 0, usd: -5, calls: 1 };
    await h.signal(spendReportSignal, { ticketId: 'T1', kind: 'work', usage: negative });
    await h.signal(spendReportSignal, {
      ticketId: 'T1',
      kind: 'work',
      usage: { ...negative, usd: 0, promptTokens: -1e9 },
    });
    await h.signal(spendReportSignal.name, { ticketId: 'T1', kind: 'work', usage: { ...negative, usd: NaN } });
    await h.signal(spendReportSignal.name, null);
    // A positive report without a permit it answers is forged too.
    await h.signal(spendReportSignal, { ticketId: 'T1', kind: 'work', usage: { ...negative, usd: 1 } });
    const after = await waitForStatus(
      harness.conn.client,
      runId,
      (s) => s.audit.filter((a) => a.action.startsWith('ignored-spend')).length >= 10,
      15_000,
      'ten audited, ignored permit signals',
    );
    expect(after.cost.usd).toBe(spent);
    expect(after.audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'ignored-spendReport', error: expect.stringContaining('usage.usd') }),
        expect.objectContaining({
          action: 'ignored-spendRequest',
          error: expect.stringContaining('unknown ticket T99'),
        }),
      ]),
    );
    await h.signal(approveSignal, { by: 'ana' });
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.cost.usd).toBeGreaterThan(spent);
  });

  it('a child ignores grants it did not ask for, so a forged grant cannot pre-approve its calls', async () => {
    // The first work call answers late, so the running child is still there to be signalled (a
    // child that needs no permit round trip ends within milliseconds).
    harness.sim.injectFault({ kind: 'latency', latencyMs: 1500, times: 1, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await start({ budget: { usd: 5 }, maxParallel: 1 });
    const s = await waitForStatus(harness.conn.client, runId, (st) => st.tickets.some((t) => t.state === 'running'));
    const child = handle(s.tickets.find((t) => t.state === 'running')!.childId);
    await child.signal(spendGrantSignal.name, { seq: 1e9 });
    await child.signal(spendGrantSignal.name, 'garbage');
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
  });
});

/** Tokens the provider billed for a request (0 for 429s, 5xx and dropped connections). */
const billed = (q: SimRequestRecord) => (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0);

describe('the cap with faults injected', () => {
  it('passes a token cap by at most one call while calls are rate limited, fail with 5xx and need repairs', async () => {
    // Short retries, so the injected faults cost little time (the default first retry waits 2 s).
    const roles = TEST_ROLES.map((r) => ({
      ...r,
      retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumAttempts: 5 },
    }));
    // What this goal's calls cost: the simulated LLM answers the same goal the same way.
    harness.sim.clearRequests();
    await env.api.result(await start({ roles }));
    const probe = harness.sim.requests();
    const planTokens = billed(probe.find((q) => q.schemaName === SCHEMA_NAMES.plan)!);
    // Room for a fraction of one call after planning: the next call crosses the cap.
    const cap = planTokens + 100;

    // The first work calls are rate limited, fail with a 5xx, then answer invalid JSON twice (a
    // paid call and a paid repair); one permit per activity let all of that and the final valid
    // answer through.
    harness.sim.clearRequests();
    const work = { schemaName: SCHEMA_NAMES.work };
    harness.sim.injectFault({ kind: 'rate-limit', retryAfterMs: 100, match: work });
    harness.sim.injectFault({ kind: 'server-error', match: work });
    harness.sim.injectFault({ kind: 'schema-invalid', times: 2, match: work });
    const runId = await start({ roles, budget: { tokens: cap }, maxParallel: 3 });
    await waitForStatus(harness.conn.client, runId, (st) => st.pendingGates[0]?.kind === 'budget', 60_000);
    // Calls still in flight when the gate opened finish and report; then nothing moves.
    const actual = () => harness.sim.requests().reduce((n, q) => n + billed(q), 0);
    const atGate = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => st.cost.tokens === actual() && harness.sim.requests().every((q) => q.status !== 0),
      15_000,
      'every billed call booked',
    );
    // "One call": the dearest call made after planning (the plan call is far bigger than the rest).
    const dearest = Math.max(
      ...harness.sim
        .requests()
        .filter((q) => q.schemaName !== SCHEMA_NAMES.plan)
        .map(billed),
    );
    expect(actual()).toBeGreaterThanOrEqual(cap);
    expect(actual() - cap).toBeLessThanOrEqual(dearest);
    expect(atGate.cost.tokens).toBe(actual());

    await handle(runId).signal(raiseBudgetSignal, { tokens: 1_000_000, by: 'ops' });
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
    const seen = harness.sim.requests();
    expect(seen.map((q) => q.fault)).toEqual(expect.arrayContaining(['rate-limit', 'server-error', 'schema-invalid']));
    // Every call was billed, also the invalid answers and their repairs.
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(r.calls.length).toBe(seen.length);
  });

  it("limits the Boss's own calls too: planning with invalid answers stops at the cap after one call", async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    // The plan call and its repair answer invalid JSON: one permit per activity paid for both,
    // then for a fresh attempt, before the budget was looked at again.
    harness.sim.injectFault({ kind: 'schema-invalid', times: 2, match: { schemaName: SCHEMA_NAMES.plan } });
    const cap = 100;
    const runId = await start({ budget: { tokens: cap } });
    const atGate = await waitForStatus(harness.conn.client, runId, (st) => st.pendingGates[0]?.kind === 'budget');
    const paid = harness.sim.requests().filter((q) => billed(q) > 0);
    expect(paid).toHaveLength(1);
    expect(atGate.cost.tokens).toBe(billed(paid[0]!));
    expect(atGate.phase).toBe('planning');

    await handle(runId).signal(raiseBudgetSignal, { tokens: 1_000_000, by: 'ops' });
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
    const seen = harness.sim.requests();
    expect(seen.filter((q) => q.fault === 'schema-invalid')).toHaveLength(2);
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
  });
});

describe('round trips of a budgeted run', () => {
  it('a ticket that stays within its first grant sends no permit signal: its work and review go on one grant, and the bill stays exact', async () => {
    harness.sim.clearRequests();
    const runId = await start({ budget: { usd: 1000 } });
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
    const events = (await handle(runId).fetchHistory()).events!;
    const signals = (await signalsReceived(runId)).map((sig) => sig.name);
    const grants = events.filter(
      (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === spendGrantSignal.name,
    );
    // A grant at a child's start covers its work and its review (and a revision's, while calls are
    // left): no request, no grant signal, and no report; the run books it from the outcome.
    expect({ requests: signals.filter((s) => s === spendRequestSignal.name).length, grants: grants.length }).toEqual({
      requests: 0,
      grants: 0,
    });
    expect(signals.filter((s) => s === spendReportSignal.name)).toHaveLength(0);
    const seen = harness.sim.requests();
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(r.calls.length).toBe(seen.length);
  });

  it("a batch that covered a ticket's work and part of its review reports each to its role: the bill by role stays exact", async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    await env.api.result(await start({ maxParallel: 1 }));
    const planTokens = billed(harness.sim.requests().find((q) => q.schemaName === SCHEMA_NAMES.plan)!);
    // The plan call is the dearest, so after it the first ticket's grant is 2 calls: its work and
    // its review's first call. That review answers invalid JSON, so its repair needs a new batch.
    const cap = Math.round(planTokens * 3.5);
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'schema-invalid', times: 1, match: { schemaName: SCHEMA_NAMES.review } });
    const runId = await start({ budget: { tokens: cap }, maxParallel: 1 });
    const atGate = await waitForStatus(harness.conn.client, runId, (st) => st.pendingGates[0]?.kind === 'budget');
    expect(atGate.cost.tokens).toBeGreaterThanOrEqual(cap);
    await handle(runId).signal(raiseBudgetSignal, { tokens: 1_000_000, by: 'ops' });
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');

    const reports = (await signalsReceived(runId))
      .filter((sig) => sig.name === spendReportSignal.name)
      .map((sig) => sig.payload);
    expect(reports).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'work', reviewUsage: expect.anything() })]),
    );
    const seen = harness.sim.requests();
    const boss = new Set<string>([SCHEMA_NAMES.plan, SCHEMA_NAMES.review, SCHEMA_NAMES.final]);
    const tokens = (u: { promptTokens: number; completionTokens: number } | undefined) =>
      (u?.promptTokens ?? 0) + (u?.completionTokens ?? 0);
    expect(tokens(r.cost.byRole.boss)).toBe(
      seen.filter((q) => boss.has(q.schemaName)).reduce((n, q) => n + billed(q), 0),
    );
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(seen.map((q) => q.fault)).toContain('schema-invalid');
  });
});

describe('a ticket that fails after calls that succeeded', () => {
  it.each([
    ['a budgeted run', { budget: { usd: 1000 } }],
    ['a run without a budget', {}],
  ] as const)('%s bills every call of the failed ticket, also its accepted work and review', async (_, opts) => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    const work = { schemaName: SCHEMA_NAMES.work };
    // The first work call answers normally (a latency fault of 0 ms holds its place in the
    // queue); the review asks for a revision; both calls of the revision's work are cut off.
    harness.sim.injectFault({ kind: 'latency', latencyMs: 0, times: 1, match: work });
    harness.sim.injectFault({ kind: 'truncated', times: 2, match: work });
    const runId = await env.api.start(
      'Write a README for a bakery called Rise and Shine [sim:tickets=1] [sim:revise=1]',
      {
        runId: `permits-${Date.now()}-${++counter}`,
        ...opts,
        gatePolicies: { ticket: { timeoutMs: 100, onTimeout: 'fail' } },
      },
    );
    const ended = await env.api.result(runId).then(
      (r) => r.status,
      (e: unknown) => describeFailure(e),
    );
    expect(ended).toContain('the ticket gate (ticket:T1#1) timed out');
    const s = await env.api.status(runId);
    const seen = harness.sim.requests();
    expect(seen.map((q) => [q.schemaName, q.fault ?? null])).toEqual([
      [SCHEMA_NAMES.plan, null],
      [SCHEMA_NAMES.work, 'latency'],
      [SCHEMA_NAMES.review, null],
      [SCHEMA_NAMES.work, 'truncated'],
      [SCHEMA_NAMES.work, 'truncated'],
    ]);
    expect(s.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(s.cost.usage.calls).toBe(seen.length);
  });

  it('a failed ticket that had reported a used-up batch is billed once, and its retry from nothing', async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    const goal = 'Write a README for a bakery called Rise and Shine [sim:tickets=1]';
    const startGoal = (opts: StartRunOptions) =>
      env.api.start(goal, { runId: `permits-${Date.now()}-${++counter}`, maxParallel: 1, ...opts });
    await env.api.result(await startGoal({}));
    const planTokens = billed(harness.sim.requests().find((q) => q.schemaName === SCHEMA_NAMES.plan)!);
    harness.sim.clearRequests();
    // A first grant of 2 calls: the work's invalid answer and its repair use it up, so the child
    // reports the batch and asks again; every answer is invalid until the ticket fails.
    harness.sim.injectFault({ kind: 'schema-invalid', times: 100, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await startGoal({ budget: { tokens: Math.round(planTokens * 3.5) } });
    let retried = false;
    for (;;) {
      const s = await waitForStatus(
        harness.conn.client,
        runId,
        (st) => st.pendingGates.length > 0 || ['completed', 'stopped', 'failed'].includes(st.phase),
      );
      const gate = s.pendingGates[0];
      if (!gate) break;
      if (gate.kind === 'budget') await env.api.raiseBudget(runId, { tokens: 1_000_000, by: 'ops' });
      else {
        expect(gate.kind).toBe('ticket');
        expect(retried).toBe(false);
        // Answers are valid again: the retry's work and review are accepted.
        harness.sim.clearFaults();
        await env.api.decide(runId, { decision: 'retry', ticketId: 'T1', by: 'ana' });
        retried = true;
      }
      await waitForStatus(harness.conn.client, runId, (st) => !st.pendingGates.some((g) => g.id === gate.id));
    }
    const r = await env.api.result(runId);
    expect({ status: r.status, retried }).toEqual({ status: 'completed', retried: true });
    const reports = (await signalsReceived(runId)).filter((sig) => sig.name === spendReportSignal.name);
    expect(reports.length).toBeGreaterThan(0);
    const seen = harness.sim.requests();
    expect(seen.filter((q) => q.fault === 'schema-invalid').length).toBeGreaterThan(2);
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(r.calls.length).toBe(seen.length);
  });
});

describe('forged spend reports (issue 19, 4.1)', () => {
  it("a forged report books nothing and frees no permit: it must echo its grant's nonce, stay within its grant, and a settled grant takes no second report", async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    // The work call answers late, so T1 holds its first grant (batch 1) while the forger acts.
    harness.sim.injectFault({ kind: 'latency', latencyMs: 4000, times: 1, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await env.api.start('Write a README for a bakery called Rise and Shine [sim:tickets=1]', {
      runId: `permits-${Date.now()}-${++counter}`,
      budget: { usd: 1 },
    });
    const s = await waitForStatus(harness.conn.client, runId, (st) => st.tickets.some((t) => t.state === 'running'));
    const before = s.cost;
    const h = handle(runId);
    const usage = { promptTokens: 1e6, cachedTokens: 0, completionTokens: 1e6, usd: 999, calls: 1 };
    // Blind forgeries: no nonce, and a made-up one, for the open batch 1 of T1.
    await h.signal(spendReportSignal.name, { ticketId: 'T1', kind: 'work', usage, seq: 1 });
    await h.signal(spendReportSignal.name, { ticketId: 'T1', kind: 'work', usage });
    await h.signal(spendReportSignal.name, { ticketId: 'T1', kind: 'work', usage, seq: 1, nonce: 'guessed' });
    // Identical entries are folded into one (`repeats`).
    const ignored = (st: RunStatus) =>
      st.audit.filter((a) => a.action === 'ignored-spendReport').reduce((n, a) => n + 1 + (a.repeats ?? 0), 0);
    const blind = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => ignored(st) >= 3 || st.cost.usd !== before.usd,
      15_000,
      'the blind forgeries handled',
    );
    expect(blind.cost.usd).toBe(before.usd);
    // A forger who read the grant's nonce in the history: still no more than the grant allowed.
    const child = s.tickets.find((t) => t.id === 'T1')!.childId;
    const started = (await handle(child).fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString('utf8')) as {
      firstGrant?: { calls: number; nonce?: string };
    };
    expect(input.firstGrant?.nonce).toEqual(expect.any(String));
    await h.signal(spendReportSignal.name, {
      ticketId: 'T1',
      kind: 'work',
      usage: { ...usage, calls: 1000 },
      seq: 1,
      nonce: input.firstGrant?.nonce,
    });
    const after = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => ignored(st) >= 4,
      15_000,
      'four audited, ignored spend reports',
    );
    expect(after.cost.usd).toBe(before.usd);
    expect(after.audit.filter((a) => a.action === 'ignored-spendReport').map((a) => a.error)).toEqual([
      'the report does not echo the nonce of grant 1 (none given)',
      'the report does not echo the nonce of grant 1 (a different one)',
      expect.stringMatching(/^the report lists 1000 calls, more calls than its grant 1 allowed \(\d+\)$/),
    ]);
    const r = await env.api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.gates.filter((g) => g.kind === 'budget')).toEqual([]);
    const seen = harness.sim.requests();
    expect(r.cost.tokens).toBe(seen.reduce((n, q) => n + billed(q), 0));
    expect(r.cost.usd).toBeLessThan(1);
  });
});

describe('the bill of a run that did not complete (issue 19, 4.3)', () => {
  /** Runs `goal` on a worker of its own until `until` holds; the worker is gone afterwards. */
  async function runAlone(
    goal: string,
    opts: StartRunOptions,
    until: (api: MaestroClient, runId: string) => Promise<void>,
  ) {
    const taskQueue = uniqueQueue('permits-alone');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = `${taskQueue}-run`;
    await worker.runUntil(async () => {
      await api.start(goal, { runId, ...opts });
      await until(api, runId);
    });
    return { api, runId };
  }

  it('a run whose planning failed shows its calls, tokens and plan attempts, also with no worker to ask', async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'schema-invalid', times: 100, match: { schemaName: SCHEMA_NAMES.plan } });
    const { api, runId } = await runAlone(GOAL, { maxReplans: 1 }, async (a, id) => {
      await a.result(id).catch(() => undefined);
    });
    harness.sim.clearFaults();
    const s = await api.status(runId);
    const seen = harness.sim.requests();
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect({ phase: s.phase, planAttempts: s.planAttempts, calls: s.cost.usage.calls, tokens: s.cost.tokens }).toEqual({
      phase: 'failed',
      planAttempts: 2,
      calls: seen.length,
      tokens: seen.reduce((n, q) => n + billed(q), 0),
    });
  });

  it('a cancelled run shows what it spent up to the cancel, also with no worker to ask', async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    // The work answers at once; the review answers late, so the cancel comes while T1 is reviewed.
    harness.sim.injectFault({ kind: 'latency', latencyMs: 5000, match: { schemaName: SCHEMA_NAMES.review } });
    const { api, runId } = await runAlone(
      'Write a README for a bakery called Rise and Shine [sim:tickets=1]',
      { budget: { usd: 1000 } },
      async (a, id) => {
        const deadline = Date.now() + 30_000;
        while (!harness.sim.requests().some((q) => q.schemaName === SCHEMA_NAMES.review) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        await a.cancel(id);
        await a.result(id).catch(() => undefined);
      },
    );
    harness.sim.clearFaults();
    const s = await api.status(runId);
    const answered = harness.sim.requests().filter((q) => q.status === 200);
    expect(answered.map((q) => q.schemaName)).toEqual([SCHEMA_NAMES.plan, SCHEMA_NAMES.work]);
    expect({ phase: s.phase, calls: s.cost.usage.calls, tokens: s.cost.tokens }).toEqual({
      phase: 'cancelled',
      calls: answered.length,
      tokens: answered.reduce((n, q) => n + billed(q), 0),
    });
  });
});
