/**
 * The programmatic client as a script uses it: `connectMaestro` from environment settings,
 * `events(runId)` followed across a SIGKILL of the worker process (a new worker finishes the
 * run and the iterator still yields the end), and typed errors with the CLI's messages.
 */
import type { MaestroClient } from '../../src/client/api';
import { connectMaestro } from '../../src/client/connect';
import {
  GateNotPendingError,
  InputError,
  RunEndedError,
  RunNotFoundError,
  TemporalUnreachableError,
} from '../../src/client/errors';
import type { WatchEvent } from '../../src/client/watch/events';
import { freePort } from '../../src/dev/dev-server';
import { runCli } from '../helpers/cli';
import { useSimAndTemporal } from '../helpers/temporal';
import { simProcessEnv, spawnWorker, type WorkerProcess } from '../helpers/worker-process';

// Each simulated answer takes 300 ms, so the run is still going when the worker is killed.
const env = useSimAndTemporal({ port: 0, latencyMs: 300 });
const workers: WorkerProcess[] = [];
let processEnv: NodeJS.ProcessEnv;
let maestro: MaestroClient;

beforeAll(async () => {
  processEnv = simProcessEnv(env.sim.baseUrl, 'client-events');
  maestro = await connectMaestro({ env: processEnv });
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await maestro?.close();
});

async function worker(): Promise<WorkerProcess> {
  const w = await spawnWorker(processEnv);
  workers.push(w);
  return w;
}

it('events() follows a run across a SIGKILL of its worker and yields the end', async () => {
  const first = await worker();
  const runId = await maestro.start('Build a landing page for a coffee shop called Bean There', {
    runId: `${processEnv.MAESTRO_TASK_QUEUE}-run`,
  });
  const events: WatchEvent[] = [];
  let killedAt = -1;
  let restarted: Promise<WorkerProcess> | undefined;
  for await (const e of maestro.events(runId, { intervalMs: 200 })) {
    events.push(e);
    // Mid-run, once it executes tickets: kill the worker, start another a bit later.
    const executing = (e.type === 'phase' && e.phase === 'executing') || (e.type === 'ticket' && e.state !== 'pending');
    if (killedAt < 0 && executing) {
      killedAt = events.length;
      await first.kill();
      restarted = new Promise((resolve) => setTimeout(resolve, 1500)).then(worker);
    }
  }
  await restarted;
  expect(killedAt).toBeGreaterThan(0);
  const end = events.at(-1);
  expect(end).toMatchObject({
    type: 'end',
    runId,
    phase: 'completed',
    execution: 'COMPLETED',
    accepted: 4,
    tickets: 4,
  });
  const after = events.slice(killedAt);
  // After the kill the iterator kept going: tickets were accepted and cost went up.
  expect(after.filter((e) => e.type === 'ticket' && e.state === 'accepted').length).toBeGreaterThanOrEqual(1);
  expect(after.some((e) => e.type === 'cost')).toBe(true);
  // Polling sees each phase that lasts longer than a poll (finalizing is one LLM call: maybe not).
  const phases = events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []));
  expect(phases.slice(0, 2)).toEqual(['planning', 'executing']);
  expect(phases.at(-1)).toBe('completed');
  expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
  // The same source as `maestro watch --json`: its end line matches the iterator's.
  const watched = await runCli(['watch', runId, '--json'], processEnv);
  const lastLine = JSON.parse(watched.stdout.trim().split('\n').at(-1)!) as WatchEvent;
  expect({ ...lastLine, at: undefined }).toEqual({ ...end, at: undefined });
}, 240_000);

it('gate events and typed errors carry the CLI messages', async () => {
  if (workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null)) await worker();
  await expect(maestro.status('no-such-run')).rejects.toThrow(RunNotFoundError);
  await expect(maestro.approve('no-such-run')).rejects.toThrow(
    'There is no run with id no-such-run; see `maestro list`.',
  );
  await expect(maestro.start('   ')).rejects.toThrow(InputError);

  const runId = await maestro.start('Write a set of short guides [sim:tickets=1]', { planApproval: 'manual' });
  for await (const e of maestro.events(runId, { intervalMs: 200 })) {
    if (e.type === 'gate' && e.event === 'opened') {
      expect(e.gate).toMatchObject({ id: 'plan#1', kind: 'plan', state: 'pending' });
      expect(e.approve?.maestro).toBe(`maestro approve ${runId} --gate 'plan#1'`);
      const refused = await maestro.approve(runId, { gate: 'final' }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(GateNotPendingError);
      expect((refused as Error).message).toBe(
        `Run ${runId} refused the decision: no pending final gate; pending: plan#1`,
      );
      await maestro.approve(runId, { by: 'script' });
    }
    if (e.type === 'gate' && e.event === 'closed')
      expect(e.decision).toMatchObject({ by: 'script', action: 'approve' });
  }
  const err = await maestro.approve(runId).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunEndedError);
  expect((err as RunEndedError).message).toBe(
    `Run ${runId} has already ended (COMPLETED); decisions are only taken while it runs.`,
  );
  // The CLI prints the same words.
  const cli = await runCli(['approve', runId], processEnv);
  expect(cli.code).toBe(2);
  expect(cli.stderr.trim()).toBe(`maestro: ${(err as Error).message}`);
}, 180_000);

it('connectMaestro says where it could not connect', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const err = await connectMaestro({ env: { ...processEnv, TEMPORAL_ADDRESS: address } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TemporalUnreachableError);
  expect((err as Error).message).toMatch(new RegExp(`^Cannot reach Temporal at ${address} .*\`maestro dev\``));
}, 60_000);
