/**
 * A worker SIGKILLed while an answer streams: the provider was paid for that call (its prompt and
 * the tokens it streamed), though no record of it was ever written. The next attempt, on a new
 * worker, books it once from the last heartbeat's streaming progress (estimated), and the run
 * completes; the call is never booked twice.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MaestroClient } from '../../src/client/api';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { expectNoPaidCallRepeated, killAndSnapshot, useCrashHarness } from '../helpers/paid-calls';
import { testAddress, uniqueQueue } from '../helpers/temporal';

const h = useCrashHarness();

async function waitFor(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a worker SIGKILLed mid-stream', () => {
  it('books the streaming call it lost once, and the run completes on a new worker', async () => {
    h.sim.clearRequests();
    const taskQueue = uniqueQueue('crash-stream');
    const env = {
      TEMPORAL_ADDRESS: testAddress(),
      MAESTRO_TASK_QUEUE: taskQueue,
      OPENAI_BASE_URL: h.sim.baseUrl,
      OPENAI_API_KEY: 'sim',
      MAESTRO_MODEL: 'maestro-sim',
      MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-crash-stream-')),
    };
    const api = new MaestroClient(h.client, taskQueue);
    const w1 = await h.worker(env);
    // T1's work answer streams over 20 s: the kill lands mid-stream, after heartbeats carried its progress.
    h.sim.injectFault({
      kind: 'slow-stream',
      latencyMs: 20_000,
      times: 1,
      match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T1' },
    });
    const runId = await api.start('Build a landing page for a coffee shop called Bean There', {
      runId: `${taskQueue}-run`,
    });
    const streaming = () =>
      h.sim.requests().find((r) => r.ticketId === 'T1' && r.schemaName === SCHEMA_NAMES.work && r.status === 0);
    await waitFor(() => streaming() !== undefined);
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 5_000); // heartbeats (flushed every 2 s) carry the progress
    const inFlight = await killAndSnapshot(h.sim, w1);
    expect(inFlight.some((r) => r.ticketId === 'T1' && r.schemaName === SCHEMA_NAMES.work)).toBe(true);
    await h.worker(env);
    const r = await api.result(runId);
    expect(r.status).toBe('completed');
    expectNoPaidCallRepeated(h.sim.requests(), inFlight);
    const sent = h.sim.requests().filter((q) => q.ticketId === 'T1' && q.schemaName === SCHEMA_NAMES.work);
    const booked = r.calls.filter((c) => c.ticketId === 'T1' && c.kind === 'work');
    // Every request the provider saw for T1's work is booked once: the lost one (estimated, with
    // the tokens it had streamed) and the retry's.
    expect(booked).toHaveLength(sent.length);
    const lost = booked.find((c) => c.attempt === 1);
    expect(lost).toMatchObject({ estimated: true });
    expect(lost!.promptTokens).toBeGreaterThan(0);
    expect(lost!.completionTokens).toBeGreaterThan(0);
    expect(Number.isFinite(lost!.usd) && lost!.usd >= 0).toBe(true);
  }, 180_000);
});
