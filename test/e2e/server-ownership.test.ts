/**
 * Who owns the embedded Temporal dev server (issue 9 items 1-3, issue 8 item 12), through the
 * real CLI with no TEMPORAL_ADDRESS and the server on a free port (MAESTRO_TEMPORAL_PORT), as a
 * newcomer meets it: a decision with no server fails at once instead of starting one and
 * hanging; a second `maestro run` or a `maestro dev` never borrows a server that a running
 * `maestro run` will take down, and says so in one line naming that process; Ctrl-C stops the
 * worker before the server and prints one line with the commands that resume the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, isListening } from '../../src/dev/dev-server';
import { CLI, cleanEnv, runCli } from '../helpers/cli';

const GOAL = 'Build a landing page for a bakery called Crumb';

async function localEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return cleanEnv({
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-owner-')),
    MAESTRO_TEMPORAL_PORT: String(await freePort()),
    MAESTRO_UI_PORT: String(await freePort()),
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    ...extra,
  });
}

/** `maestro run` in the background, with its output so far and its end. */
function background(args: string[], env: NodeJS.ProcessEnv, ownGroup = false) {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
  const done = new Promise<{ code: number | null }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code });
    }),
  );
  return { child, done, out: () => ({ stdout, stderr }) };
}

async function until(what: string, ok: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('a decision with no server running fails within seconds and never starts one', async () => {
  const env = await localEnv();
  const t0 = Date.now();
  const res = await runCli(['approve', 'maestro-20261130-101010-abcd', '--gate', 'plan'], env, 30_000);
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`No Temporal server is running on localhost:${env.MAESTRO_TEMPORAL_PORT}`);
  expect(res.stderr).toContain('Start `maestro dev`');
  expect(res.stderr).not.toContain('Starting the embedded');
  expect(await isListening('127.0.0.1', Number(env.MAESTRO_TEMPORAL_PORT))).toBe(false);

  // Reading the saved runs still works with nothing running: a temporary server, stopped again.
  const list = await runCli(['list'], env, 60_000);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain('No runs yet');
  expect(await isListening('127.0.0.1', Number(env.MAESTRO_TEMPORAL_PORT))).toBe(false);
});

it("a second run, or `maestro dev`, refuses in one line to borrow a running `maestro run`'s server", async () => {
  const env = await localEnv({ MAESTRO_SIM_LATENCY_MS: '400' });
  const first = background(['run', GOAL], env);
  await until('the first run to start', () => /Run \S+ started/.test(first.out().stderr));

  const second = await runCli(['run', 'Build a landing page for a cafe'], env);
  expect(second.code).toBe(1);
  const lines = second.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`belongs to another command, pid ${first.child.pid} (\`maestro run\``);
  expect(lines[0]).toContain('start `maestro dev` in another terminal first');
  expect(second.stderr).not.toMatch(/panic|goroutine|address already in use/);

  const dev = await runCli(['dev'], env, 30_000);
  expect(dev.code).toBe(1);
  expect(dev.stderr.trim().split('\n')).toHaveLength(1);
  expect(dev.stderr).toContain(`pid ${first.child.pid} (\`maestro run\``);

  expect((await first.done).code).toBe(0);
});

it('`maestro dev` refuses a port held by a process Maestro did not start, naming it', async () => {
  const env = await localEnv();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(Number(env.MAESTRO_TEMPORAL_PORT), '127.0.0.1', resolve));
  try {
    const res = await runCli(['dev'], env, 30_000);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      `localhost:${env.MAESTRO_TEMPORAL_PORT} is already in use by a process Maestro did not start (pid ${process.pid}`,
    );
    expect(res.stderr).toContain('TEMPORAL_ADDRESS=');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

it('Ctrl-C stops the worker, then the server, and prints one line with the commands that resume the run', async () => {
  const env = await localEnv({ MAESTRO_SIM_LATENCY_MS: '1500' });
  const run = background(['run', GOAL], env, true);
  await until('the run to start', () => /Run \S+ started/.test(run.out().stderr));
  const runId = /Run (\S+) started/.exec(run.out().stderr)![1]!;
  await new Promise((r) => setTimeout(r, 1000)); // mid-run: an LLM call is in flight
  const before = run.out().stderr.length;
  process.kill(-run.child.pid!, 'SIGINT'); // like Ctrl-C in a terminal: to the whole process group
  expect((await run.done).code).toBe(130);
  const after = run.out().stderr.slice(before).trim().split('\n');
  expect(after).toEqual([
    `SIGINT: stopping the worker, then the Temporal server this command started. Run ${runId} is saved and waits until a worker runs: \`maestro dev\`, then \`maestro watch ${runId}\`.`,
  ]);
  expect(await isListening('127.0.0.1', Number(env.MAESTRO_TEMPORAL_PORT))).toBe(false);
});
