/**
 * What a Maestro worker process starts with: its memory settings, shared by the `maestro worker`
 * launcher (client/worker-relaunch.ts, which sets them at process start, the only time glibc and
 * V8's main isolate read them) and by `createMaestroWorker` (which caps the workflow thread's
 * isolate in every process that hosts a worker); and the pid it goes by. No imports: the
 * launcher loads this before anything else.
 */

/** glibc malloc arenas of a worker (glibc's default is 8 per core: one per thread that allocates). */
export const WORKER_MALLOC_ARENA_MAX = '2';

/**
 * Young-generation semi-space cap of a worker's V8 isolates, in MB. Node 20 lets it grow to 16 MB
 * per semi-space in each isolate (main thread and workflow thread); with 100 tickets in flight
 * both grow to it, and the cap saves ~25 MB of RSS per isolate for no measurable CPU.
 */
export const WORKER_SEMI_SPACE_MB = 8;

/** Whether V8 flags already set the semi-space size (on the command line or in NODE_OPTIONS). */
export function semiSpaceSizeSet(opts: { execArgv: readonly string[]; env: NodeJS.ProcessEnv }): boolean {
  const flags = [...opts.execArgv, ...(opts.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => /^--max[-_]semi[-_]space[-_]size\b/.test(f));
}

/** Set in the relaunched worker's environment, so that it does not relaunch again. */
export const RELAUNCHED_ENV = 'MAESTRO_WORKER_RELAUNCHED';

/**
 * The pid a person started and can signal: the launcher's when `maestro worker` relaunched
 * itself (it passes signals on), else this process's. Worker identities carry it.
 */
export function launchedPid(env: NodeJS.ProcessEnv = process.env): number {
  return env[RELAUNCHED_ENV] !== undefined ? process.ppid : process.pid;
}
