/** Child processes for the compose services run natively: run-to-exit, or start and stop by signal. */
import { spawn, type ChildProcess } from 'node:child_process';

/** Options of a native service process. */
export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** A started process; `output()` is stdout and stderr interleaved. */
export interface NativeProcess {
  child: ChildProcess;
  output(): string;
  /** Sends `signal` (SIGKILL after `timeoutMs`) and resolves with the exit code (null when killed). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Starts `argv` with exactly `opts.env` (nothing inherited, like a container). */
export function startProcess(argv: string[], opts: ProcessOptions = {}): NativeProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      out += `spawn error: ${err.message}\n`;
      resolve(-1);
    });
    child.once('close', (code) => resolve(code));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('close', () => process.off('exit', killOnExit));
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM', timeoutMs = 30_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs `argv` to its end (SIGKILL after `timeoutMs`): exit code and output. */
export async function execProcess(
  argv: string[],
  opts: ProcessOptions = {},
): Promise<{ code: number | null; out: string }> {
  const p = startProcess(argv, opts);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null) resolve(p.child.exitCode);
    else p.child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, out: p.output() };
}
