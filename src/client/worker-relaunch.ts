/**
 * `maestro worker` starts with memory settings that only take effect at process start: glibc reads
 * MALLOC_ARENA_MAX when the process begins, V8 sizes the main thread's young generation when the
 * isolate is created. Without them one worker with 100 tickets in flight peaked at ~320 MB, with
 * them ~230 MB (`npm run bench -- --only rss`). A user who starts `maestro worker` on a laptop sets
 * neither, so the command relaunches itself once with them: a small launcher process (Node core
 * only, it never loads the CLI's modules) runs the worker as its child, passes signals on and ends
 * with the child's exit status; the child dies at once if the launcher is killed (SIGKILL), as a
 * single process would. Setting both yourself (the Docker image does) skips the launcher, and so
 * does MAESTRO_WORKER_RELAUNCH=0.
 *
 * This module is the first thing the `maestro` executable loads: node:child_process and
 * worker-launch.ts only.
 */
import { spawn } from 'node:child_process';
import {
  RELAUNCHED_ENV,
  semiSpaceSizeSet,
  WORKER_MALLOC_ARENA_MAX,
  WORKER_SEMI_SPACE_MB,
} from '../workers/worker-launch';

/** `MAESTRO_WORKER_RELAUNCH=0` keeps `maestro worker` in one process with whatever settings it has. */
export const RELAUNCH_SWITCH_ENV = 'MAESTRO_WORKER_RELAUNCH';

/** MAESTRO_WORKER_RELAUNCH holds something other than 0 or 1; the message says so. */
export class RelaunchSettingError extends Error {
  override name = 'RelaunchSettingError';
}

/** Signals the launcher passes on to the worker (the worker drains on SIGINT/SIGTERM). */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'];

/** What the launcher starts: `node <execArgv> <script> <args>` with `env`. */
export interface RelaunchPlan {
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The relaunch `maestro worker` needs, or undefined: not the worker command, already relaunched,
 * switched off, on Windows (no POSIX signals to pass on), or both settings already in place.
 * Throws RelaunchSettingError for a MAESTRO_WORKER_RELAUNCH that is neither 0 nor 1.
 */
export function relaunchPlan(opts: {
  argv: readonly string[];
  execArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}): RelaunchPlan | undefined {
  const [, script, command] = opts.argv;
  if (command !== 'worker' || script === undefined || opts.platform === 'win32') return undefined;
  const switchValue = opts.env[RELAUNCH_SWITCH_ENV];
  if (switchValue !== undefined && switchValue !== '0' && switchValue !== '1') {
    throw new RelaunchSettingError(
      `${RELAUNCH_SWITCH_ENV} must be 0 (one process, no memory settings added) or 1 (the default), not "${switchValue}"`,
    );
  }
  if (opts.env[RELAUNCHED_ENV] !== undefined || switchValue === '0') return undefined;
  const arenaSet = opts.env.MALLOC_ARENA_MAX !== undefined;
  const semiSet = semiSpaceSizeSet(opts);
  if (arenaSet && semiSet) return undefined;
  return {
    args: [
      ...opts.execArgv,
      ...(semiSet ? [] : [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`]),
      ...opts.argv.slice(1),
    ],
    env: {
      ...opts.env,
      ...(arenaSet ? {} : { MALLOC_ARENA_MAX: WORKER_MALLOC_ARENA_MAX }),
      [RELAUNCHED_ENV]: '1',
    },
  };
}

/**
 * Runs the plan as a child and mirrors it: the same stdio, signals passed on, and this process
 * ends as the child ended (its exit code, or killed by the same signal). The child gets its own
 * process group, so Ctrl-C in a terminal reaches it once (through the launcher), not twice.
 */
export function relaunch(plan: RelaunchPlan): void {
  const child = spawn(process.execPath, plan.args, {
    env: plan.env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED_SIGNALS) process.on(s, pass);
  child.once('error', (err) => {
    console.error(`maestro: could not start the worker process: ${err.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of FORWARDED_SIGNALS) process.off(s, pass);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

/**
 * In a relaunched worker: die with the launcher. Its IPC channel closes when the launcher ends for
 * any reason; a launcher that ended normally has already waited for this process to exit, so a
 * channel closing under a running worker means the launcher was killed.
 */
export function dieWithLauncher(env: NodeJS.ProcessEnv = process.env): void {
  if (env[RELAUNCHED_ENV] === undefined || !process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
