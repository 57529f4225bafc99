/**
 * Maestro workers as separate processes (`maestro worker`), so tests can kill them with SIGKILL
 * the way a crash, an OOM kill or a deploy does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, cleanEnv } from './cli';

/** A running worker process and what it printed. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill: () => Promise<void>;
}

/** Starts `maestro worker` and resolves once it polls its task queue. */
export async function spawnWorker(env: NodeJS.ProcessEnv, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('Worker polling task queue')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before polling:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
