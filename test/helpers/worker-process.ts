/**
 * Maestro workers as separate processes (`maestro worker`), so tests can kill them with SIGKILL
 * the way a crash, an OOM kill or a deploy does.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { startWorkerProcess, workerPidOf } from '../../src/dev/worker-process';
import { CLI, cleanEnv } from './cli';
import { testAddress, uniqueQueue } from './temporal';

/** A running worker process and what it printed. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill: () => Promise<void>;
}

/** Starts `maestro worker` and resolves once it polls its task queue. */
export async function spawnWorker(env: NodeJS.ProcessEnv, args: string[] = []): Promise<WorkerProcess> {
  const { child, output } = await startWorkerProcess({ cliJs: CLI, env: cleanEnv(env), args });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    child,
    output,
    /** SIGKILL of the process that does the work (its launcher, if any, then ends the same way). */
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const { worker } = workerPidOf(child.pid!);
        try {
          process.kill(worker, 'SIGKILL');
        } catch {
          child.kill('SIGKILL'); // it exited in between
        }
      }
      await exited;
    },
  };
}

/**
 * The environment of a worker process and of the CLI or scripts beside it: the suite's server, a
 * task queue of its own (named after `name`), the simulated LLM at `simBaseUrl`, a fresh MAESTRO_HOME.
 */
export function simProcessEnv(simBaseUrl: string, name: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue(name),
    OPENAI_BASE_URL: simBaseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), `maestro-${name}-`)),
    ...extra,
  });
}

/** What a CLI test needs: the simulated LLM and the environment of its `maestro` processes. */
export interface CliWorld {
  sim: SimLlm;
  env: NodeJS.ProcessEnv;
}

/**
 * A simulated LLM and a `maestro worker` process on a fresh task queue and data folder of the
 * suite's server, for CLI tests (fields set once `beforeAll` has run; both stop after the file).
 */
export function useCliWorker(name: string): CliWorld {
  const world = {} as CliWorld;
  let worker: WorkerProcess | undefined;
  beforeAll(async () => {
    world.sim = await startSimLlm({ port: 0 });
    world.env = simProcessEnv(world.sim.baseUrl, name);
    worker = await spawnWorker(world.env);
  });
  afterAll(async () => {
    await worker?.kill();
    await world.sim?.close();
  });
  return world;
}
