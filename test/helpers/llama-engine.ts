/**
 * Starts the real llama.cpp engine server (dist/dev/llama-engine/main.js, built by `npm test`'s
 * pretest) in its own process — node-llama-cpp is ESM-only, so it runs outside jest's module
 * system — with the model cached under the repository's .maestro/ (installed by .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A running engine process. */
export interface EngineProcess {
  baseUrl: string;
  /** Milliseconds from spawn to the first answerable moment (library + model load). */
  startupMs: number;
  /** What the engine printed on stderr so far (llama.cpp writes its grammar errors there). */
  stderr(): string;
  stop(): Promise<void>;
}

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'llama-engine', 'main.js');

/** How to start an engine beyond the defaults (one thread, a free port, the cached model). */
export interface EngineProcessOptions {
  timeoutMs?: number;
  /** More command-line flags, e.g. `['--parallel', '2']`. */
  args?: string[];
  /** More environment, e.g. MAESTRO_LLAMA_MODEL. */
  env?: Record<string, string>;
}

/** Spawns the engine on a free port and waits for its URL (model install included, if needed). */
export function startEngineProcess(opts: EngineProcessOptions = {}): Promise<EngineProcess> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [MAIN, '--port', '0', '--threads', '1', ...(opts.args ?? [])], {
    env: { ...process.env, MAESTRO_HOME: path.resolve(__dirname, '..', '..', '.maestro'), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the llama engine did not start in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LLAMA_ENGINE_URL=(\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ baseUrl: m[1], startupMs: Date.now() - started, stderr: () => stderr, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the llama engine exited with ${String(code)}:\n${stderr}`));
    });
  });
}
