/**
 * Billing and budgets of agent tickets (issue 19, section 4), on the suite's Temporal server with
 * the real activities and the simulated LLM: every call the provider answered is on the bill (a
 * turn's failed attempts too, whether Temporal's retry then succeeded or not), checked against
 * the simulated LLM's own request log.
 */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { AgentSettings } from '../../src/shared/tools';
import type { LlmCallRecord, TicketInput, TicketOutcome } from '../../src/shared/types';
import { MaestroClient } from '../../src/client/api';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });

const AGENT: AgentSettings = { tools: ['list_files', 'read_file', 'write_file'] };

/** Tokens the provider billed for a request (0 for 5xx and dropped connections). */
const billed = (q: SimRequestRecord) => (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0);
const tokensOf = (calls: readonly LlmCallRecord[]) =>
  calls.reduce((n, c) => n + c.promptTokens + c.completionTokens, 0);

/** The Coder's T1 as an agent ticket started on its own, with short turn retries. */
const coderTicket = (runId: string): TicketInput => ({
  runId,
  ticket: {
    id: 'T1',
    role: 'coder',
    title: 'Build the page',
    spec: 'Build the one-page website of Leaf Lounge, a tea room. Deliver these files: `index.html`.',
    acceptanceCriteria: ['index.html exists'],
    dependsOn: [],
  },
  role: {
    ...TEST_ROLES.find((r) => r.name === 'coder')!,
    agent: AGENT,
    retry: { initialIntervalMs: 100, backoffCoefficient: 1, maximumAttempts: 3 },
  },
  dependencies: [],
  maxRevisions: 0,
});

async function runTicket(name: string): Promise<{ outcome?: TicketOutcome; failure?: ApplicationFailure }> {
  const taskQueue = uniqueQueue(name);
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
  return worker.runUntil(() =>
    harness.conn.client.workflow
      .execute('ticketWorkflow', { taskQueue, workflowId: `${taskQueue}/T1`, args: [coderTicket(`${name}-run`)] })
      .then(
        (outcome) => ({ outcome: outcome as TicketOutcome }),
        (err: unknown) => {
          expect(err).toBeInstanceOf(WorkflowFailedError);
          return { failure: (err as WorkflowFailedError).cause as ApplicationFailure };
        },
      ),
  );
}

describe('failed agent turns are billed (issue 19, 4.3)', () => {
  it('a turn whose first attempts failed (5xx, 429) and were retried by Temporal bills every attempt', async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'server-error', match: { schemaName: SCHEMA_NAMES.work } });
    harness.sim.injectFault({ kind: 'rate-limit', retryAfterMs: 100, match: { schemaName: SCHEMA_NAMES.work } });
    const { outcome } = await runTicket('agent-turn-retried');
    // The sim's Boss asks for a viewport once (maxRevisions 0: escalated): the turn went through.
    expect(outcome?.status).toBe('escalated');
    const work = harness.sim.requests().filter((q) => q.schemaName === SCHEMA_NAMES.work);
    expect(work.map((q) => q.fault ?? 'ok').slice(0, 3)).toEqual(['server-error', 'rate-limit', 'ok']);
    const calls = (outcome!.calls ?? []).filter((c) => c.kind === 'work');
    expect({ calls: calls.length, tokens: tokensOf(calls), usage: outcome!.workUsage.calls }).toEqual({
      calls: work.length,
      tokens: work.reduce((n, q) => n + billed(q), 0),
      usage: work.length,
    });
  });

  it("a turn that fails after Temporal's retries lists every paid attempt in the ticket's failure", async () => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'truncated', times: 100, match: { schemaName: SCHEMA_NAMES.work } });
    const { failure } = await runTicket('agent-turn-failed');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const listed = (failure!.details?.[0] ?? {}) as { calls?: LlmCallRecord[]; wholeTicket?: boolean };
    const work = harness.sim.requests().filter((q) => q.schemaName === SCHEMA_NAMES.work);
    expect(work.length).toBeGreaterThan(1);
    expect({ calls: listed.calls?.length, tokens: tokensOf(listed.calls ?? []) }).toEqual({
      calls: work.length,
      tokens: work.reduce((n, q) => n + billed(q), 0),
    });
  });
});

describe('parallel agent attempts under a token cap (issue 19, 4.2)', () => {
  it('pass the cap by at most the dearest single call: every turn is metered through the run’s permits', async () => {
    const taskQueue = uniqueQueue('agent-cap');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const roles = TEST_ROLES.map((r) => ({ ...r, agent: { ...AGENT, maxTurns: 8 } }));
    const goal = 'Field notes on the salt marshes of Ebbmoor [sim:tickets=4] [sim:width=4]';
    await worker.runUntil(async () => {
      // What the goal's calls cost without a cap (the simulated LLM answers the same goal alike).
      harness.sim.clearFaults();
      harness.sim.clearRequests();
      const probe = await api.result(await api.start(goal, { runId: `${taskQueue}-probe`, roles, maxParallel: 4 }));
      const total = harness.sim.requests().reduce((n, q) => n + billed(q), 0);
      const plan = billed(harness.sim.requests()[0]!);
      expect(probe.cost.tokens).toBe(total);
      // The cap falls in the middle of the four agents' turns.
      const cap = plan + Math.round((total - plan) / 4);
      harness.sim.clearRequests();
      const runId = `${taskQueue}-capped`;
      await api.start(goal, { runId, roles, maxParallel: 4, budget: { tokens: cap } });
      await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'budget', 90_000);
      // Calls in flight when the gate opened finish and are booked; then nothing moves.
      const actual = () => harness.sim.requests().reduce((n, q) => n + billed(q), 0);
      const atGate = await waitForStatus(
        harness.conn.client,
        runId,
        (s) => s.cost.tokens === actual() && harness.sim.requests().every((q) => q.status !== 0),
        30_000,
        'every billed call booked',
      );
      // "One call": the dearest call after planning (the plan call is far bigger than an agent's turn).
      const dearest = Math.max(
        ...harness.sim
          .requests()
          .filter((q) => q.schemaName !== SCHEMA_NAMES.plan)
          .map(billed),
      );
      expect(actual()).toBeGreaterThanOrEqual(cap);
      expect(actual() - cap).toBeLessThanOrEqual(dearest);
      expect(atGate.cost.tokens).toBe(actual());
      await api.decide(runId, { decision: 'reject', by: 'ops' });
      const r = await api.result(runId);
      expect(r.status).toBe('stopped');
      expect(r.cost.tokens).toBe(actual());
    });
  });
});
