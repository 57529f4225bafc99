/**
 * A repo run survives SIGKILLed workers: once while a ticket's agent is at work (an LLM turn with
 * tool results in flight), once while the merge queue's `mergeTicket` activity runs. A new worker
 * finishes the run; the branch has exactly one commit per ticket (no duplicated commit) and no
 * completed LLM call was paid for twice (the simulated LLM's request log). A merge is short, so
 * the kill is aimed at the moment the run's history shows `mergeTicket` scheduled and not
 * completed, and aimed again at the next merge when it came too late.
 */
import type { Client } from '@temporalio/client';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { expectNoPaidCallRepeated, killAndSnapshot } from '../helpers/paid-calls';
import { pythonFixture, runFixtureTests } from '../helpers/repo-fixtures';
import { branchCommits, checkoutState, cloneBranch, startCli, useRepoRunHarness, waitFor } from '../helpers/repo-run';

const h = useRepoRunHarness('repo-crash');

interface ActivityView {
  workflowId: string;
  scheduledId: string;
  completed: boolean;
}

/** The `type` activities of a workflow and of the children it started (two levels), with whether each completed. */
async function activities(client: Client, workflowId: string, type: string, depth = 2): Promise<ActivityView[]> {
  const history = await client.workflow
    .getHandle(workflowId)
    .fetchHistory()
    .catch(() => undefined);
  const out: ActivityView[] = [];
  const done = new Set<string>();
  const children: string[] = [];
  for (const e of history?.events ?? []) {
    const c = e.activityTaskCompletedEventAttributes;
    if (c?.scheduledEventId) done.add(String(c.scheduledEventId));
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (child) children.push(child);
  }
  for (const e of history?.events ?? [])
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === type) {
      const id = String(e.eventId);
      out.push({ workflowId, scheduledId: id, completed: done.has(id) });
    }
  if (depth > 0) for (const c of children) out.push(...(await activities(client, c, type, depth - 1)));
  return out;
}

describe('maestro run --repo with workers SIGKILLed mid-ticket and mid-merge', () => {
  it('finishes with one commit per ticket and no repeated paid call', async () => {
    const fx = await pythonFixture();
    const before = await checkoutState(fx.dir);
    h.sim.clearRequests();
    // T1's first two agent turns answer slowly, so the kill lands while one (after tool results) is in flight.
    h.sim.injectFault({
      kind: 'latency',
      latencyMs: 2500,
      times: 2,
      match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T1' },
    });
    let worker = await h.worker();
    const cli = startCli(
      ['run', 'Add small tagged helpers to idna, with tests', '--repo', fx.dir, '--yes'],
      h.clientEnv(),
    );
    const runId = await cli.runId();
    const inFlight: SimRequestRecord[] = [];

    await waitFor('a turn of T1 with tool results in flight', () =>
      h.sim.requests().some((q) => q.status === 0 && q.ticketId === 'T1' && q.messages.some((m) => m.role === 'tool')),
    );
    inFlight.push(...(await killAndSnapshot(h.sim, worker)));
    expect(inFlight.length).toBeGreaterThan(0);
    worker = await h.worker();

    // Kill while a merge runs; a merge that completed before the kill landed does not count: aim at the next one.
    let hit = false;
    for (let tries = 0; tries < 3 && !hit; tries++) {
      let target: ActivityView | undefined;
      await waitFor('a mergeTicket activity scheduled and not completed', async () => {
        target = (await activities(h.client, runId, 'mergeTicket')).find((a) => !a.completed);
        return target !== undefined || cli.child.exitCode !== null;
      });
      if (!target) break; // the run ended first
      // Other tickets' agents may be between an answer and their activity's report right now.
      inFlight.push(...(await killAndSnapshot(h.sim, worker, { recentMs: 3000 })));
      const after = await activities(h.client, target.workflowId, 'mergeTicket', 0);
      hit = after.some((a) => a.scheduledId === target!.scheduledId && !a.completed);
      worker = await h.worker();
    }
    expect(hit).toBe(true); // the worker died at least once with a merge not completed

    const res = await cli.done;
    expect(res.code).toBe(0);
    expect(await checkoutState(fx.dir)).toEqual(before);
    const commits = await branchCommits(fx.dir, fx.head, `maestro/${runId}`);
    const ids = commits.map((c) => c.trailers['Maestro-Ticket']?.[0]);
    expect([...ids].sort()).toEqual(['T1', 'T2', 'T3']); // one commit per ticket: none duplicated, none lost
    for (const c of commits) expect(c.trailers['Maestro-Run']).toEqual([runId]);
    expectNoPaidCallRepeated(h.sim.requests(), inFlight);

    const t = await runFixtureTests(fx, await cloneBranch(fx.dir, `maestro/${runId}`));
    expect(t.code).toBe(0);
  }, 900_000);
});
