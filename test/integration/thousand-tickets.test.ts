/**
 * Issue 12: a run of 1,000 tickets through sub-Bosses (10 epics of 100 independent tickets) runs
 * to completion offline, with the worker process SIGKILLed in the middle; a new worker finishes
 * it, every ticket is accepted, and no completed LLM call was made twice (only calls in flight at
 * the kill may repeat). Lean on purpose: latency 0, one review per ticket, 100 tickets in flight.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MaestroClient } from '../../src/client/api';
import { SCHEMA_NAMES, ticketWorkflowId } from '../../src/shared/constants';
import { expectNoPaidCallRepeated, killAndSnapshot, useCrashHarness } from '../helpers/paid-calls';
import { testAddress, uniqueQueue } from '../helpers/temporal';

const EPICS = 10;
const PER_EPIC = 100;

const h = useCrashHarness();

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let lastDone = { count: -1, at: 0 };

/** True once every open call is a hanging one and no call has completed for 3 s. */
function quiet(): boolean {
  const log = h.sim.requests();
  const done = log.filter((q) => q.status !== 0).length;
  if (done !== lastDone.count) lastDone = { count: done, at: Date.now() };
  const open = log.filter((q) => q.status === 0);
  return open.every((q) => q.fault === 'hang') && Date.now() - lastDone.at > 3000;
}

describe('1,000 tickets through sub-Bosses', () => {
  it('completes with every ticket accepted after a SIGKILL of the worker, paying for no call twice', async () => {
    const started = Date.now();
    const taskQueue = uniqueQueue('thousand');
    const env: NodeJS.ProcessEnv = {
      TEMPORAL_ADDRESS: testAddress(),
      MAESTRO_TASK_QUEUE: taskQueue,
      OPENAI_BASE_URL: h.sim.baseUrl,
      OPENAI_API_KEY: 'sim',
      MAESTRO_MODEL: 'maestro-sim',
      MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-thousand-')),
    };
    const w1 = await h.worker(env);
    const api = new MaestroClient(h.client, taskQueue);
    const runId = await api.start(
      `Write an encyclopedia of harbour birds [sim:epics=${EPICS}] [sim:tickets=${PER_EPIC}] [sim:width=${PER_EPIC}]`,
      { runId: `${taskQueue}-run`, epics: true, maxParallel: 10 },
    );
    const reviewed = () =>
      h.sim.requests().filter((q) => q.schemaName === SCHEMA_NAMES.review && q.status === 200).length;
    await waitFor(() => reviewed() >= (EPICS * PER_EPIC) / 3, 240_000, 'a third of the tickets reviewed');
    // From now on the model hangs: calls in flight finish and their activities report, new ones
    // wait. Once nothing completes any more, every call that completed is on record in Temporal,
    // so none of them may be made again; the kill then finds only hanging calls in flight.
    h.sim.injectFault({ kind: 'hang', times: 1_000_000 });
    await waitFor(quiet, 60_000, 'calls in flight to finish');
    const inFlight = await killAndSnapshot(h.sim, w1);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(inFlight.every((q) => q.fault === 'hang')).toBe(true);
    const killedAt = reviewed();
    h.sim.clearFaults();
    await h.worker(env);

    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expect(r.tickets).toHaveLength(EPICS);
    expect(r.tickets.every((t) => t.role === 'boss' && t.state === 'accepted')).toBe(true);
    let accepted = 0;
    for (const epic of r.tickets) {
      const sub = await api.result(ticketWorkflowId(runId, epic.id));
      expect(sub.tickets).toHaveLength(PER_EPIC);
      accepted += sub.tickets.filter((t) => t.state === 'accepted').length;
    }
    expect(accepted).toBe(EPICS * PER_EPIC);
    expect(killedAt).toBeLessThan(EPICS * PER_EPIC); // the kill really came mid-run

    const log = h.sim.requests();
    expectNoPaidCallRepeated(log, inFlight);
    const ok = (schema: string) => log.filter((q) => q.schemaName === schema && q.status === 200).length;
    expect(ok(SCHEMA_NAMES.plan)).toBe(EPICS + 1);
    expect(ok(SCHEMA_NAMES.final)).toBe(EPICS + 1);
    expect(ok(SCHEMA_NAMES.work)).toBeGreaterThanOrEqual(EPICS * PER_EPIC);
    expect(ok(SCHEMA_NAMES.work)).toBeLessThanOrEqual(EPICS * PER_EPIC + inFlight.length);
    // The top run heard of its epics' progress a bounded number of times (not once per ticket).
    const history = await h.client.workflow.getHandle(runId).fetchHistory();
    const progress = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'maestro.epicProgress',
    );
    expect(progress.length).toBeGreaterThanOrEqual(EPICS);
    expect(progress.length).toBeLessThanOrEqual(EPICS * 20);
    // The whole tree's spending shows in the top run's cost.
    expect(r.cost.usage.calls).toBeGreaterThanOrEqual(2 * EPICS * PER_EPIC + 2 * (EPICS + 1));
    console.log(
      `1,000 tickets through ${EPICS} sub-Bosses: ${((Date.now() - started) / 1000).toFixed(1)} s (killed after ${killedAt} reviews, ${inFlight.length} calls in flight; ${progress.length} progress signals, ${history.events?.length} events in the top run)`,
    );
  }, 600_000);
});
