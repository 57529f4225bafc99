/** Runs the built `maestro` CLI (dist/, built by `npm test`'s pretest) as a subprocess. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { isolatedEnv } from '../../src/dev/worker-process';

/** Absolute path of the compiled CLI entry point. */
export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'client', 'cli.js');

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/client/cli.js ...args` with `env` (not inheriting OPENAI_* or TEMPORAL_ADDRESS). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `maestro ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A clean environment for the CLI: no provider or server settings leak in from the caller. */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return isolatedEnv(extra);
}
