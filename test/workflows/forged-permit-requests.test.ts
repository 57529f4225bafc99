/**
 * Forged permit requests (issue 19 hostile review): anyone who can signal a run can send
 * `maestro.spendRequest` naming a running ticket. Such a request must not make the ticket's own
 * next request look "already asked for" (the ticket would wait for a grant forever, and the
 * forged batch would hold permits the rest of the run needs): what a person notices is whether
 * the run still finishes.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { raiseBudgetSignal, spendRequestSignal } from '../../src/shared/messages';
import { waitForStatus } from '../helpers/runs';
import { useRunWorker } from '../helpers/run-worker';
import { useSimAndTemporal } from '../helpers/temporal';

const GOAL = 'Write a README for a bakery called Rise and Shine [sim:tickets=1]';
const harness = useSimAndTemporal({ port: 0 });
const env = useRunWorker(harness, 'forged-requests');
let counter = 0;
/** The run's token cap (set from a probe run's plan call). */
let cap = 0;
const runIdOf = () => `forged-req-${Date.now()}-${++counter}`;
const billed = (q: SimRequestRecord) => (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0);

/**
 * The run's result, or a readable failure naming where it stalled. The tight cap opens a budget
 * gate after the ticket (the final report has no room): an operator raising the budget there is
 * part of the normal flow, a ticket waiting for a grant forever is not.
 */
async function resultWithin(runId: string, ms: number) {
  const h = harness.conn.client.workflow.getHandle(runId);
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await h.describe()).status.name !== 'RUNNING') break;
    const s = await env.api.status(runId);
    if (s.pendingGates.some((g) => g.kind === 'budget')) await h.signal(raiseBudgetSignal, { tokens: 1_000_000 });
    if (Date.now() > deadline)
      throw new Error(
        `run ${runId} did not finish within ${ms} ms: ${s.phase}, tickets ${s.tickets.map((t) => `${t.id}:${t.state}`).join(' ')}, gates ${s.pendingGates.map((g) => g.id).join(' ')}, audit ${JSON.stringify(s.audit.filter((a) => a.action.includes('spend')))}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  return env.api.result(runId);
}

describe('forged permit requests', () => {
  beforeAll(async () => {
    // The plan call is far the dearest: a cap of 2.5 plan calls leaves room for one call at a
    // time after planning, so the ticket's review needs a second batch (a request of its own).
    harness.sim.clearRequests();
    await env.api.result(await env.api.start(GOAL, { runId: runIdOf() }));
    cap = Math.floor(2.5 * billed(harness.sim.requests().find((q) => q.schemaName === SCHEMA_NAMES.plan)!));
  });

  it('control: without a forgery the run completes', async () => {
    harness.sim.clearFaults();
    harness.sim.injectFault({ kind: 'latency', latencyMs: 3000, times: 1, match: { schemaName: SCHEMA_NAMES.work } });
    const runId = await env.api.start(GOAL, { runId: runIdOf(), budget: { tokens: cap } });
    expect((await resultWithin(runId, 30_000)).status).toBe('completed');
  });

  for (const [what, seq] of [
    ['a far batch number', 1e9],
    ['the batch the ticket asks for next, sent before it', 2],
  ] as const) {
    it(`a forged request for a running ticket (${what}) does not stall the ticket or the run`, async () => {
      harness.sim.clearFaults();
      // The work call answers late, so the forger acts while the ticket holds its first batch.
      harness.sim.injectFault({ kind: 'latency', latencyMs: 3000, times: 1, match: { schemaName: SCHEMA_NAMES.work } });
      const runId = await env.api.start(GOAL, { runId: runIdOf(), budget: { tokens: cap } });
      await waitForStatus(harness.conn.client, runId, (s) => s.tickets.some((t) => t.state === 'running'));
      await harness.conn.client.workflow
        .getHandle(runId)
        .signal(spendRequestSignal.name, { ticketId: 'T1', seq, calls: 1 });
      const r = await resultWithin(runId, 30_000);
      expect(r.status).toBe('completed');
    });
  }
});
