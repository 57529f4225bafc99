/**
 * Defects a newcomer hit (issue 22 part 3, items 5a, 6, 8, 9 and 2), through the real `maestro`
 * binary: `status` of an open run no worker answers exits 1 as the README's table says; `list
 * --phase stopped` finds the runs `list` shows as stopped and `--phase completed` only completed
 * ones; `watch` shows the phase `list` shows when no worker answers; `maestro temporal …` starts
 * the embedded server like `status` does; MAESTRO_UI_PORT=0 picks a free port and a taken UI port's
 * error names MAESTRO_UI_PORT.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { freePort, isListening } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const GOAL = 'Build a landing page for a bakery called Crumb';
const PHASE_KEY = defineSearchAttributeKey('MaestroPhase', SearchAttributeType.KEYWORD);

let sim: SimLlm;
let worker: WorkerProcess;
let env: NodeJS.ProcessEnv;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  sim = await startSimLlm({ port: 0, latencyMs: 5 });
  env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue('front-door'),
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-front-door-')),
  });
  worker = await spawnWorker(env);
  connection = await Connection.connect({ address: testAddress() });
  client = new Client({ connection });
});
afterAll(async () => {
  await worker?.kill();
  await sim?.close();
  await connection?.close();
});

/**
 * An open run that recorded the phase `executing` and that no worker serves (its queue has no
 * poller): what a run looks like to the CLI after its worker stopped mid-run.
 */
async function orphanedExecutingRun(): Promise<string> {
  const runId = `front-door-orphan-${process.pid}-${Date.now()}`;
  await client.workflow.start('orchestratorWorkflow', {
    workflowId: runId,
    taskQueue: uniqueQueue('nobody-polls'),
    args: [{ goal: GOAL }],
    memo: { goal: GOAL },
    typedSearchAttributes: [{ key: PHASE_KEY, value: 'executing' }],
  });
  return runId;
}

/** `maestro <args>` until `enough(stdout)` holds (or 60 s), then SIGTERM; what it printed. */
function runUntil(args: string[], runEnv: NodeJS.ProcessEnv, enough: (out: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (enough(out)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('an open run that no worker answers', () => {
  let runId: string;
  beforeAll(async () => {
    runId = await orphanedExecutingRun();
  });
  afterAll(async () => {
    await client.workflow.getHandle(runId).terminate('test over');
  });

  it('`maestro status` exits 1 (nothing to fix in the command: start a worker), saying so', async () => {
    const res = await runCli(['status', runId], env, 60_000);
    expect(res.stderr).toContain(`Run ${runId} is running, but no worker answered its status query`);
    expect(res.stderr).toContain('maestro worker');
    expect(res.code).toBe(1);
  }, 90_000);

  it('`maestro watch` shows the phase `maestro list` shows, not planning', async () => {
    const list = await runCli(['list', '--json'], env, 60_000);
    expect(list.code).toBe(0);
    const listed = (JSON.parse(list.stdout) as { runId: string; phase?: string }[]).find((r) => r.runId === runId);
    expect(listed?.phase).toBe('executing');

    const json = await runUntil(['watch', runId, '--json'], env, (out) => out.includes('\n'));
    const first = JSON.parse(json.split('\n')[0]!) as { type: string; phase?: string };
    expect(first).toMatchObject({ type: 'phase', phase: 'executing' });

    const piped = await runUntil(['watch', runId], env, (out) => out.includes('No worker answers'));
    expect(piped).toContain('No worker answers for this run right now');
    expect(piped).not.toContain('Phase: planning');
  }, 120_000);
});

describe('`maestro list --phase` tells stopped from completed runs', () => {
  it('stopped lists the run stopped at its budget; completed lists the completed run and not the stopped one', async () => {
    const stopped = `front-door-stopped-${process.pid}`;
    const completed = `front-door-completed-${process.pid}`;
    const [s, c] = await Promise.all([
      runCli(['run', GOAL, '--run-id', stopped, '--budget-usd', '0.002', '--yes'], env),
      runCli(['run', GOAL, '--run-id', completed, '--yes'], env),
    ]);
    expect(s.code).toBe(3);
    expect(c.code).toBe(0);

    const ids = async (phase?: string) => {
      const res = await runCli(['list', '--json', '--limit', '100', ...(phase ? ['--phase', phase] : [])], env, 60_000);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      return new Map((JSON.parse(res.stdout) as { runId: string; phase: string }[]).map((r) => [r.runId, r.phase]));
    };
    const all = await ids();
    expect(all.get(stopped)).toBe('stopped');
    expect(all.get(completed)).toBe('completed');
    const onlyStopped = await ids('stopped');
    expect(onlyStopped.get(stopped)).toBe('stopped');
    expect(onlyStopped.has(completed)).toBe(false);
    expect([...onlyStopped.values()].every((p) => p === 'stopped')).toBe(true);
    const onlyCompleted = await ids('completed');
    expect(onlyCompleted.get(completed)).toBe('completed');
    expect(onlyCompleted.has(stopped)).toBe(false);
    expect([...onlyCompleted.values()].every((p) => p === 'completed')).toBe(true);
  }, 240_000);

  it.each([['STOPPED;'], ['completed OR 1=1'], ["x' OR '1'='1"]])(
    'refuses --phase %j with exit 2, listing the phases',
    async (phase) => {
      const res = await runCli(['list', '--phase', phase], env, 30_000);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(
        '--phase takes one of planning, awaiting-approval, executing, finalizing, running, completed, stopped, failed, cancelled',
      );
    },
  );
});

describe('the embedded server (no TEMPORAL_ADDRESS)', () => {
  async function localEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
    return cleanEnv({
      MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-front-door-local-')),
      MAESTRO_TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
      ...extra,
    });
  }

  it('`maestro temporal workflow list` starts it when none runs, as `status` does, and stops it after', async () => {
    const local = await localEnv({ MAESTRO_UI_PORT: String(await freePort()) });
    const res = await runCli(['temporal', 'workflow', 'list', '--limit', '1'], local, 120_000);
    expect(res.stderr).not.toContain('connection refused');
    expect(res.stderr).toContain('Starting the embedded Temporal dev server');
    expect(res.code).toBe(0);
    expect(await isListening('127.0.0.1', Number(local.MAESTRO_TEMPORAL_PORT))).toBe(false);
  }, 150_000);

  it('a taken Web UI port: exit 2 and the message names MAESTRO_UI_PORT and MAESTRO_UI_PORT=0', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const uiPort = (holder.address() as { port: number }).port;
    try {
      const res = await runCli(['status', 'front-door-nothing'], await localEnv({ MAESTRO_UI_PORT: String(uiPort) }));
      expect(res.stderr).toContain(`Web UI port ${uiPort} on 127.0.0.1 is already in use`);
      expect(res.stderr).toContain('pick another port with MAESTRO_UI_PORT (MAESTRO_UI_PORT=0 picks a free one)');
      expect(res.code).toBe(2);
    } finally {
      holder.close();
    }
  }, 150_000);

  it('MAESTRO_UI_PORT=0 is accepted: a free port is picked and `maestro run` shows the real URL', async () => {
    const res = await runCli(['run', GOAL, '--yes'], await localEnv({ MAESTRO_UI_PORT: '0' }));
    expect(res.stderr).not.toContain('MAESTRO_UI_PORT');
    expect(res.code).toBe(0);
    const urls = [...`${res.stdout}\n${res.stderr}`.matchAll(/Web UI[^:]*: (http:\/\/[^/\s]+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(Number(new URL(url!).port)).toBeGreaterThan(0);
  }, 180_000);

  it.each(['-1', '99999', 'abc', '0x10', '1e3'])(
    'MAESTRO_UI_PORT=%j is refused with exit 2, saying what a valid value is',
    async (value) => {
      const res = await runCli(['status', 'front-door-nothing'], await localEnv({ MAESTRO_UI_PORT: value }), 30_000);
      expect(res.stderr).toContain(
        `MAESTRO_UI_PORT: must be a port number from 1 to 65535, or 0 to pick a free port (got ${JSON.stringify(value)})`,
      );
      expect(res.code).toBe(2);
    },
  );
});
