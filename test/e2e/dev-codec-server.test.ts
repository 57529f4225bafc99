/**
 * `maestro dev` with encryption keys set starts a codec server beside its Temporal server and
 * points the Web UI at it (`--ui-codec-endpoint`): the UI's settings name the endpoint, the
 * endpoint answers the UI's origin, and the run's encrypted history decodes through it. A taken
 * codec port fails at once with what to do. Real CLI processes on free ports (never 7233/8233).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, isListening } from '../../src/dev/dev-server';
import { CLI, cleanEnv, runCli } from '../helpers/cli';

jest.setTimeout(180_000);

const GOAL = 'Build a landing page for a tea shop called Oolong Corner';
const KEY = Buffer.alloc(32, 9).toString('base64');

async function devEnv(): Promise<NodeJS.ProcessEnv> {
  return cleanEnv({
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-dev-codec-')),
    MAESTRO_TEMPORAL_PORT: String(await freePort()),
    MAESTRO_UI_PORT: String(await freePort()),
    MAESTRO_ENCRYPTION_KEYS: `dev=${KEY}`,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
  });
}

type History = { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: Payload[] } } }[] };
type Payload = { metadata: Record<string, string>; data: string };

/** The run's input payload as `temporal workflow show` prints it (optionally through a codec endpoint). */
function startInput(env: NodeJS.ProcessEnv, runId: string, extra: string[] = []): { encoding: string; text: string } {
  const out = execFileSync(
    process.env.TEMPORAL_CLI_PATH!,
    [
      'workflow',
      'show',
      '-w',
      runId,
      '--address',
      `127.0.0.1:${env.MAESTRO_TEMPORAL_PORT}`,
      '--output',
      'json',
      ...extra,
    ],
    { encoding: 'utf8' },
  );
  const payload = (JSON.parse(out) as History).events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return {
    encoding: Buffer.from(payload.metadata.encoding!, 'base64').toString(),
    text: Buffer.from(payload.data, 'base64').toString('latin1'),
  };
}

it('starts a codec server for the Web UI when encryption keys are set, and stops it with the server', async () => {
  const env = await devEnv();
  const ui = `http://127.0.0.1:${env.MAESTRO_UI_PORT}`;
  const dev = spawn(process.execPath, [CLI, 'dev', '--codec-port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dev.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!/Codec server: (\S+)/.test(out) && dev.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const codecUrl = /Codec server: (\S+)/.exec(out)?.[1];
    // The endpoint carries the fresh token in its path; without it the server refuses.
    expect(codecUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}$/);
    const bare = await fetch(`${new URL(codecUrl!).origin}/decode`, { method: 'POST', body: '{"payloads":[]}' });
    expect(bare.status).toBe(401);

    // The Web UI was started with the endpoint (what its browser code then calls)...
    const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe(codecUrl);
    // ...which answers the UI's origin.
    const preflight = await fetch(`${codecUrl}/decode`, {
      method: 'OPTIONS',
      headers: { origin: ui, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);

    // A run started now is encrypted in Temporal, and readable through the endpoint.
    const runId = 'dev-codec-run';
    const started = await runCli(['start', GOAL, '--run-id', runId], env, 60_000);
    expect(started.code).toBe(0);
    const stored = startInput(env, runId);
    expect(stored.encoding).toBe('binary/encrypted');
    expect(stored.text).not.toContain('Oolong');
    const decoded = startInput(env, runId, ['--codec-endpoint', codecUrl!]);
    expect(decoded.encoding).toBe('json/plain');
    expect(decoded.text).toContain(GOAL);

    dev.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await isListening('127.0.0.1', Number(new URL(codecUrl!).port))).toBe(false);
  } finally {
    if (dev.exitCode === null) dev.kill('SIGKILL');
  }
});

it('a taken codec port stops `maestro dev` at once with what to do', async () => {
  const env = await devEnv();
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const res = await runCli(['dev', '--codec-port', String(port)], env, 60_000);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`cannot start its codec server on 127.0.0.1:${port}`);
    expect(res.stderr).toContain('--codec-port');
    expect(await isListening('127.0.0.1', Number(env.MAESTRO_TEMPORAL_PORT))).toBe(false);
  } finally {
    taken.close();
  }
});
