/**
 * `maestro worker` as a person starts it: the process relaunches itself once with its memory
 * settings (MALLOC_ARENA_MAX=2, V8's semi-space cap), goes by the launcher's pid, drains on a
 * SIGTERM sent to the launcher, dies with a launcher killed by SIGKILL, and skips the launcher
 * when the settings are already there (the Docker image).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { workflowPollers } from '../../src/client/pollers';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { workerPidOf } from '../../src/dev/worker-process';
import { WORKER_SEMI_SPACE_MB } from '../../src/workers/worker-launch';
import { testAddress } from '../helpers/temporal';
import { simProcessEnv, spawnWorker } from '../helpers/worker-process';

let sim: SimLlm;
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
});
afterAll(async () => {
  await sim?.close();
});

const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('maestro worker relaunch', () => {
  it('runs the worker in a child with MALLOC_ARENA_MAX=2 and the semi-space cap, named by the launcher pid; SIGTERM drains both', async () => {
    const env = simProcessEnv(sim.baseUrl, 'relaunch');
    const w = await spawnWorker(env);
    const launcher = w.child.pid!;
    const { worker } = workerPidOf(launcher);
    expect(worker).not.toBe(launcher);
    expect(environOf(worker)).toContain('MALLOC_ARENA_MAX=2');
    expect(cmdlineOf(worker)).toContain(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
    expect(environOf(launcher)).not.toContain('MALLOC_ARENA_MAX=2');

    const connection = await Connection.connect({ address: testAddress() });
    try {
      const client = new Client({ connection });
      let identities: string[] = [];
      await until('the worker to be listed as a poller', async () => {
        identities = (await workflowPollers(client, env.MAESTRO_TASK_QUEUE!)).map((p) => p.identity);
        return identities.length > 0;
      });
      expect(identities.every((id) => id.startsWith(`${launcher}@`))).toBe(true);
    } finally {
      await connection.close();
    }

    const exited = new Promise<number | null>((resolve) => w.child.once('exit', (code) => resolve(code)));
    w.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(w.output()).toContain('SIGTERM: shutting down (workers drain first)');
    await until('the worker process to end', () => !alive(worker));
  });

  it('ends the worker when its launcher is killed with SIGKILL', async () => {
    const w = await spawnWorker(simProcessEnv(sim.baseUrl, 'relaunch-kill'));
    const { worker, launcher } = workerPidOf(w.child.pid!);
    expect(launcher).toBe(w.child.pid);
    expect(alive(worker)).toBe(true);
    w.child.kill('SIGKILL');
    await until('the orphaned worker to die', () => !alive(worker), 10_000);
  });

  it('ends its launcher the way the worker ended (a crash of the worker is a crash of the command)', async () => {
    const w = await spawnWorker(simProcessEnv(sim.baseUrl, 'relaunch-crash'));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      w.child.once('exit', (_code, signal) => resolve(signal)),
    );
    process.kill(workerPidOf(w.child.pid!).worker, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
  });

  it('ends both on SIGHUP (a closed terminal) the way it ends one node process', async () => {
    const w = await spawnWorker(simProcessEnv(sim.baseUrl, 'relaunch-hup'));
    const { worker } = workerPidOf(w.child.pid!);
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      w.child.once('exit', (_code, signal) => resolve(signal)),
    );
    w.child.kill('SIGHUP');
    expect(await exited).toBe('SIGHUP');
    await until('the worker process to end', () => !alive(worker));
  });

  it('stays one process when the settings are already there', async () => {
    const w = await spawnWorker(
      simProcessEnv(sim.baseUrl, 'relaunch-none', {
        MALLOC_ARENA_MAX: '2',
        NODE_OPTIONS: `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`,
      }),
    );
    try {
      expect(workerPidOf(w.child.pid!)).toEqual({ worker: w.child.pid });
    } finally {
      await w.kill();
    }
  });
});
