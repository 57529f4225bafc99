/**
 * The operator commands as a person runs them against an existing cluster (the suite's dev
 * server, reached through TEMPORAL_ADDRESS): `maestro setup` on a fresh namespace, `maestro
 * watch` following a run through its plan gate (JSON events and plain lines), `maestro list`
 * with phase and time filters.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { MaestroClient } from '../../src/client/api';
import type { WatchEvent } from '../../src/client/watch/events';
import { approveSignal } from '../../src/shared/messages';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { testAddress, testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const GOAL = 'Build a landing page for a coffee shop called Bean There';

const harness = useSimAndTemporal({ port: 0, latencyMs: 50 });

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-operator-')),
    ...extra,
  });
}

/** Runs the CLI and hands each stdout line to `onLine` as it arrives. */
function streamCli(args: string[], e: NodeJS.ProcessEnv, onLine: (line: string) => void) {
  const child = spawn(process.execPath, [CLI, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr })),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return { done: done.finally(() => clearTimeout(timer)) };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('maestro setup', () => {
  it('creates a missing namespace and registers the search attributes, and changes nothing the second time', async () => {
    const e = env({ TEMPORAL_NAMESPACE: `maestro-setup-${randomBytes(3).toString('hex')}` });
    const first = await runCli(['setup', '--retention', '3'], e);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Namespace maestro-setup-\w+: created with a retention of 3 days\./);
    for (const sa of [
      'MaestroPhase (Keyword)',
      'MaestroRunId (Keyword)',
      'MaestroRoles (KeywordList)',
      'MaestroCostUsd (Double)',
    ])
      expect(first.stdout).toContain(`  ${sa}: registered`);

    const again = await runCli(['setup', '--json'], e);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.namespace).toMatchObject({ action: 'exists', retentionDays: 3 });
    expect(report.searchAttributes.map((s: { action: string }) => s.action)).toEqual([
      'exists',
      'exists',
      'exists',
      'exists',
    ]);
  });
});

describe('maestro watch and maestro list on a gated run', () => {
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueQueue('watch');

  beforeAll(async () => {
    worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
  });

  it('follows the run through its plan gate and ends with the outcome', async () => {
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = await api.start(GOAL, { runId: `${taskQueue}-run`, planApproval: 'manual' });
    const e = env({ MAESTRO_TASK_QUEUE: taskQueue, COLUMNS: '80' });

    const events: WatchEvent[] = [];
    const json = streamCli(['watch', runId, '--json', '--interval', '200'], e, (l) => events.push(JSON.parse(l)));
    const plain = runCli(['watch', runId, '--interval', '200'], e);
    await until('the gate-opened event', () => events.some((x) => x.type === 'gate' && x.event === 'opened'));

    const waiting = await runCli(['list', '--phase', 'awaiting-approval', '--json'], e);
    expect(JSON.parse(waiting.stdout)).toContainEqual(expect.objectContaining({ runId, phase: 'awaiting-approval' }));
    const executing = await runCli(['list', '--phase', 'executing', '--json'], e);
    expect(JSON.parse(executing.stdout).map((r: { runId: string }) => r.runId)).not.toContain(runId);

    await harness.conn.client.workflow.getHandle(runId).signal(approveSignal, { by: 'watch-test' });
    const [jsonDone, plainDone] = await Promise.all([json.done, plain]);
    expect(jsonDone.code).toBe(0);
    expect(plainDone.code).toBe(0);

    expect(events[0]).toMatchObject({ type: 'phase', runId, phase: 'planning' });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'gate',
        event: 'opened',
        approve: expect.objectContaining({ maestro: `maestro approve ${runId} --gate 'plan#1'` }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'gate',
        event: 'closed',
        decision: expect.objectContaining({ by: 'watch-test' }),
      }),
    );
    const accepted = events.filter((x) => x.type === 'ticket' && x.state === 'accepted').map((x) => 'id' in x && x.id);
    expect(accepted.sort()).toEqual(['T1', 'T2', 'T3', 'T4']);
    expect(events.at(-1)).toMatchObject({ type: 'end', execution: 'COMPLETED', accepted: 4, tickets: 4 });

    // Piped stdout is not a terminal: one plain line per change, with the approve commands.
    expect(plainDone.stdout).toContain('Waiting for approval: plan gate');
    // Commands are wrapped between words at COLUMNS (stdout is not a terminal), continued with ` \`.
    const unwrapped = plainDone.stdout.replace(/ \\\n +/g, ' ');
    expect(unwrapped).toContain(`  approve: maestro approve ${runId} --gate 'plan#1'`);
    expect(unwrapped).toContain(`temporal workflow signal --workflow-id ${runId} --name approve`);
    for (const line of plainDone.stdout.split('\n').filter((l) => l.startsWith('       or: ')))
      expect(line.length).toBeLessThanOrEqual(80);
    expect(plainDone.stdout).toMatch(/Gate plan closed: \w+ by watch-test/);
    expect(plainDone.stdout).toContain(`Run ${runId} ended: completed (completed) — 4/4 tickets accepted`);
    expect(plainDone.stdout).not.toContain('\u001b[');

    const done = await runCli(['list', '--phase', 'completed', '--since', '1h', '--json'], e);
    expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(done.stdout)).toContainEqual(
      expect.objectContaining({ runId, phase: 'completed', status: 'COMPLETED' }),
    );
  });

  it('refuses an unknown run and bad filters with a message that says what to do', async () => {
    const e = env();
    const unknown = await runCli(['watch', 'no-such-run'], e);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No run "no-such-run" in namespace default. List runs with `maestro list`.');
    const phase = await runCli(['list', '--phase', 'done'], e);
    expect(phase.code).not.toBe(0);
    expect(phase.stderr).toContain('--phase takes one of planning, awaiting-approval, executing');
    const since = await runCli(['list', '--since', 'yesterday'], e);
    expect(since.stderr).toContain('--since takes a duration such as 30m, 2h, 3d or 1w');
  });
});
