/**
 * What a script gets back when its decision comes too late, and when it reads a cancelled run,
 * on the suite's real Temporal server with a real worker and the simulated LLM:
 * - approving a gate that was already decided, by its id, is a GateNotPendingError (issue 22, 3.4);
 * - two approvals of the final gate at once: one wins, the other is a GateNotPendingError, never
 *   Temporal's raw "workflow update was aborted by closing workflow" (3.5);
 * - `result()` and `saveFiles()` of a cancelled run give what it had accepted, with status
 *   `cancelled`, instead of a raw `WorkflowFailedError: Workflow canceled` (3.3).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { MaestroClient } from '../../src/client/api';
import { DecisionRefusedError, GateNotPendingError, MaestroError } from '../../src/client/errors';
import type { StartRunOptions } from '../../src/client/run-input';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const env = useSimAndTemporal({ port: 0, latencyMs: 50 });
// The worker writes files where the client's MAESTRO_HOME reads them, as on one machine.
const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-gate-errors-'));
const runner = {} as { api: MaestroClient; start: (goal: string, opts: StartRunOptions) => Promise<string> };
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let counter = 0;
let cancelledRun: string | undefined;
beforeAll(async () => {
  const taskQueue = uniqueQueue('gate-errors');
  const store = new FsArtifactStore(path.join(home, 'artifacts'));
  worker = await testWorker(env.conn.nativeConnection, taskQueue, testDeps(env.sim.baseUrl, { store }));
  running = worker.run();
  runner.api = new MaestroClient(env.conn.client, taskQueue, { home });
  runner.start = (goal, opts) => runner.api.start(goal, { runId: `gate-errors-${Date.now()}-${++counter}`, ...opts });
});
env.beforeClose(async () => {
  worker?.shutdown();
  await running;
});

/** Waits until the run has a pending gate of `kind`; returns its id. */
async function pendingGate(api: MaestroClient, runId: string, kind: string): Promise<string> {
  for await (const e of api.events(runId, { intervalMs: 100 })) {
    if (e.type === 'gate' && e.event === 'opened' && e.gate.kind === kind) return e.gate.id;
    if (e.type === 'end') break;
  }
  throw new Error(`run ${runId} ended without a pending ${kind} gate`);
}

it('approving a gate already decided, by its id, is GateNotPendingError', async () => {
  const runId = await runner.start('Write a set of short guides [sim:tickets=1]', { planApproval: 'manual' });
  const gate = await pendingGate(runner.api, runId, 'plan');
  await runner.api.approve(runId, { gate, by: 'ana' });
  const err = await runner.api.approve(runId, { gate, by: 'bo' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GateNotPendingError);
  expect((err as GateNotPendingError).message).toMatch(
    new RegExp(`^Run ${runId} refused the decision: gate ${gate} is no longer pending: it was approved by ana at `),
  );
  // An id that names no gate at all is still a plain refusal (fix the id), not "not pending".
  const unknown = await runner.api.approve(runId, { gate: 'plan#9' }).catch((e: unknown) => e);
  expect(unknown).toBeInstanceOf(DecisionRefusedError);
  expect(unknown).not.toBeInstanceOf(GateNotPendingError);
  await runner.api.cancel(runId);
}, 120_000);

it('two approvals of the final gate at once: one wins, the other is GateNotPendingError', async () => {
  const outcomes: string[] = [];
  for (let round = 1; round <= 4; round++) {
    const runId = await runner.start('Write a set of short guides [sim:tickets=1]', { finalApproval: 'manual' });
    const gate = await pendingGate(runner.api, runId, 'final');
    const settled = await Promise.allSettled([
      runner.api.approve(runId, { gate: 'final', by: 'ana' }),
      runner.api.approve(runId, { gate: 'final', by: 'bo' }),
    ]);
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    // Whatever the timing, the loser is told the gate is no longer pending, in Maestro's words.
    expect(lost[0]).toBeInstanceOf(GateNotPendingError);
    expect((lost[0] as Error).message).toMatch(new RegExp(`^Run ${runId} refused the decision: `));
    expect((lost[0] as Error).message).not.toMatch(/aborted by closing workflow|Workflow Update failed/);
    outcomes.push((lost[0] as Error).message.replaceAll(runId, '<run>').replaceAll(gate, '<gate>'));
    expect((await runner.api.result(runId)).status).toBe('completed');
  }
  process.stderr.write(`final-gate race, the losing approval each round:\n${outcomes.join('\n')}\n`);
}, 240_000);

it('result() and saveFiles() of a cancelled run give what it had accepted, status cancelled', async () => {
  // Every ticket accepted, the run waits at its final gate: cancelled there, it has all the files but no report.
  const runId = await runner.start('Build a landing page for a coffee shop called Bean There', {
    finalApproval: 'manual',
  });
  cancelledRun = runId;
  await pendingGate(runner.api, runId, 'final');
  await runner.api.cancel(runId);
  const result = await runner.api.result(runId);
  expect(result.status).toBe('cancelled');
  expect(result.runId).toBe(runId);
  expect(result.tickets.map((t) => [t.id, t.state])).toEqual([
    ['T1', 'accepted'],
    ['T2', 'accepted'],
    ['T3', 'accepted'],
    ['T4', 'accepted'],
  ]);
  expect(result.manifest.map((m) => m.path)).toContain('index.html');
  expect(result.cost.usd).toBeGreaterThan(0);
  expect(result.report.headline).toBe('Cancelled: 4 of 4 tickets accepted before the run was cancelled');
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-cancelled-')), 'out');
  const saved = await runner.api.saveFiles(runId, out);
  expect(saved.outDir).toBe(out);
  expect(existsSync(path.join(out, 'index.html'))).toBe(true);
  expect(readdirSync(out).length).toBeGreaterThan(1);
}, 180_000);

it('result() of a run cancelled before anything was accepted: status cancelled, no files', async () => {
  const runId = await runner.start('Write a set of short guides [sim:tickets=1]', { planApproval: 'manual' });
  await pendingGate(runner.api, runId, 'plan');
  await runner.api.cancel(runId);
  const result = await runner.api.result(runId);
  expect(result).toMatchObject({ runId, status: 'cancelled', manifest: [] });
  const err = await runner.api
    .saveFiles(runId, path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-cancelled-')), 'out'))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MaestroError);
  expect((err as Error).message).toBe(
    `Run ${runId} was cancelled before any ticket was accepted, so it has no files to save.`,
  );
}, 120_000);

it('with no worker left, a cancelled run still reads back: its files from the history, its cost from the memo', async () => {
  expect(cancelledRun).toBeDefined();
  worker?.shutdown();
  await running;
  worker = undefined;
  const result = await runner.api.result(cancelledRun!);
  expect(result.status).toBe('cancelled');
  // No worker answers the status query, so the tickets are unknown; the accepted ones are not.
  expect(result.tickets).toEqual([]);
  expect(result.status === 'cancelled' && [...result.acceptedTicketIds].sort()).toEqual(['T1', 'T2', 'T3', 'T4']);
  expect(result.report.headline).toBe('Cancelled: 4 tickets accepted before the run was cancelled');
  expect(result.manifest.map((m) => m.path)).toContain('index.html');
  expect(result.cost.usd).toBeGreaterThan(0);
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-cancelled-')), 'out');
  expect((await runner.api.saveFiles(cancelledRun!, out)).files.length).toBeGreaterThan(1);
}, 120_000);
