/**
 * A `maestro worker` in a process of its own: started from the built CLI and awaited until it
 * polls its task queue. The rss benchmark measures such a process, and tests kill one with
 * SIGKILL the way a crash or a deploy does; both start it the same way, from here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** How long a worker may take to start polling before it counts as failed. */
const START_TIMEOUT_MS = 60_000;

/** A running worker process and everything it printed so far. */
export interface WorkerProcessHandle {
  /** The spawned process: the worker, or the launcher it relaunched itself from. */
  child: ChildProcess;
  output: () => string;
}

/**
 * The process that does the work: `maestro worker` relaunches itself with its memory settings
 * (client/worker-relaunch.ts), so the spawned process is then a launcher and the worker its only
 * child (Linux lists it in /proc/<pid>/task/<pid>/children; elsewhere the spawned pid is returned).
 */
export function workerPidOf(spawnedPid: number): { worker: number; launcher?: number } {
  let children: string[];
  try {
    children = readFileSync(`/proc/${spawnedPid}/task/${spawnedPid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return { worker: spawnedPid };
  }
  const child = Number(children[0]);
  return children.length === 1 && Number.isInteger(child) && child > 0
    ? { worker: child, launcher: spawnedPid }
    : { worker: spawnedPid };
}

/**
 * The environment of a child `maestro` process: this process's, without its OPENAI_, TEMPORAL_
 * and MAESTRO_ settings (so the child sees only what the caller gives it), plus `extra`.
 */
export function isolatedEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(OPENAI_|TEMPORAL_|MAESTRO_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Starts `node <cliJs> worker <args>` with exactly `env` and resolves once it polls; rejects (and
 * kills it) when it exits first or does not poll within a minute, with what it printed.
 */
export async function startWorkerProcess(opts: {
  cliJs: string;
  env: NodeJS.ProcessEnv;
  args?: readonly string[];
}): Promise<WorkerProcessHandle> {
  const child = spawn(process.execPath, [opts.cliJs, 'worker', ...(opts.args ?? [])], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => (out += d.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`maestro worker exited with ${code} before polling:\n${out}`));
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`maestro worker did not start polling in ${START_TIMEOUT_MS / 1000} s:\n${out}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      if (!out.includes('Worker polling task queue')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      resolve();
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', onExit);
  });
  return { child, output: () => out };
}
