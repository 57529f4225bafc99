/**
 * Payload encryption end to end: a `maestro worker` process and `maestro start` with
 * MAESTRO_ENCRYPTION_KEYS run a whole run on the suite's dev server; the history as the
 * `temporal` CLI prints it holds no plain goal, spec or review text, while `maestro codec-server`
 * lets the same CLI show it decrypted. A wrong or missing key fails with a message that says what
 * to fix; rotated keys still decrypt old payloads.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AesGcmCodec, ENCRYPTED_ENCODING, PayloadDecryptionError } from '../../src/codec/aes-gcm-codec';
import { WorkflowFailedError } from '@temporalio/client';
import { connectClient } from '../../src/client/connection';
import { loadConfig, ConfigError } from '../../src/config';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { RunResult } from '../../src/shared/types';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';
import { waitForStatus } from '../helpers/runs';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const run = promisify(execFile);
const GOAL = 'Build a landing page for a tea house called Quiet Kettle';
const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const utf8 = (s: string) => new TextEncoder().encode(s);

let sim: SimLlm;
let worker: WorkerProcess | undefined;
const taskQueue = uniqueQueue('encrypted');
// A namespace of its own: clients without the key (other test files' `maestro list`) cannot
// decode these runs' memos, so they must not share a namespace with them.
const namespace = `maestro-encrypted-${taskQueue.slice(-8)}`;
const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-encrypted-'));

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    TEMPORAL_NAMESPACE: namespace,
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: home,
    MAESTRO_LOG_LEVEL: 'ERROR',
    MAESTRO_ENCRYPTION_KEYS: `k2=${key(2)},k1=${key(1)}`,
    ...extra,
  });
}

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  const setup = await runCli(['setup', '--retention', '1'], env(), 60_000);
  if (setup.code !== 0) throw new Error(`maestro setup failed: ${setup.stderr}`);
});
afterAll(async () => {
  await worker?.kill();
  await sim?.close();
});

/**
 * Every payload's bytes in a `temporal workflow show --output json` history, as text, with the
 * encodings of the payloads outside search attributes (which the server must index, so no codec
 * ever touches them: Maestro keeps only phase, run id, roles and cost there) and outside the SDK's
 * `patched()` markers (the SDK writes them unencoded; they hold only the patch id).
 */
function payloadTexts(history: unknown): { encodings: string[]; plain: string[]; text: string } {
  const encodings: string[] = [];
  const plain: string[] = [];
  const parts: string[] = [];
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${where}[${i}]`));
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.metadata === 'object' && o.metadata && 'encoding' in o.metadata) {
      const encoding = Buffer.from((o.metadata as Record<string, string>).encoding!, 'base64').toString('utf8');
      const data = typeof o.data === 'string' ? Buffer.from(o.data, 'base64').toString('utf8') : '';
      parts.push(data);
      // Search attributes and the SDK's patch markers (a patch id, no user data) are not encoded.
      if (!where.includes('.indexedFields.') && !where.includes('.patch-data.')) {
        encodings.push(encoding);
        if (encoding !== ENCRYPTED_ENCODING) plain.push(`${where}: ${encoding} ${data.slice(0, 80)}`);
      }
      return;
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${where}.${k}`);
  };
  walk(history, '');
  return { encodings, plain, text: parts.join('\n') };
}

async function showHistory(workflowId: string, extra: string[] = []): Promise<unknown> {
  const { stdout } = await run(
    process.env.TEMPORAL_CLI_PATH!,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--address',
      testAddress(),
      '--namespace',
      namespace,
      '--output',
      'json',
      ...extra,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout);
}

describe('the AES-256-GCM codec', () => {
  it('decrypts payloads written before a key rotation and refuses wrong or unknown keys clearly', async () => {
    const old = new AesGcmCodec({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } });
    const [sealed] = await old.encode([{ metadata: { encoding: utf8('json/plain') }, data: utf8('"secret goal"') }]);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('secret goal');

    const rotated = new AesGcmCodec({ currentKeyId: 'k2', keys: { k2: Buffer.alloc(32, 2), k1: Buffer.alloc(32, 1) } });
    const [opened] = await rotated.decode([sealed!]);
    expect(Buffer.from(opened!.data!).toString()).toBe('"secret goal"');
    const [resealed] = await rotated.encode([opened!]);
    expect(Buffer.from(resealed!.metadata!['encryption-key-id']!).toString()).toBe('k2');

    const wrong = new AesGcmCodec({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 9) } });
    await expect(wrong.decode([sealed!])).rejects.toThrow(PayloadDecryptionError);
    await expect(wrong.decode([sealed!])).rejects.toThrow(
      /Cannot decrypt a payload with key "k1": the configured key of that id is wrong/,
    );
    const other = new AesGcmCodec({ currentKeyId: 'k3', keys: { k3: Buffer.alloc(32, 3) } });
    await expect(other.decode([sealed!])).rejects.toThrow(
      /encrypted with key "k1", which is not configured here \(known: k3\)/,
    );
  });

  it('rejects malformed keys at start-up, naming the variable', () => {
    expect(() => loadConfig({ MAESTRO_ENCRYPTION_KEYS: 'k1=c2hvcnQ=' })).toThrow(ConfigError);
    expect(() => loadConfig({ MAESTRO_ENCRYPTION_KEYS: 'k1=c2hvcnQ=' })).toThrow(
      /MAESTRO_ENCRYPTION_KEYS: key "k1" must be 32 bytes in base64 \(got 5 bytes\); generate a key with `openssl rand -base64 32`/,
    );
    expect(() => loadConfig({ MAESTRO_ENCRYPTION_KEYS: key(1) })).toThrow(/each entry is id=base64key/);
    expect(() => loadConfig({ MAESTRO_ENCRYPTION_KEY_FILE: '/nonexistent/keys.json' })).toThrow(
      /MAESTRO_ENCRYPTION_KEY_FILE: cannot read \/nonexistent\/keys.json as JSON/,
    );
  });
});

describe('an encrypted run', () => {
  const runId = `${taskQueue}-run`;

  it('completes with worker and CLI sharing the keys, and no plain goal, spec or review text in the history', async () => {
    worker = await spawnWorker(env());
    const started = await runCli(['start', GOAL, '--run-id', runId], env(), 60_000);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const client = await connectClient(loadConfig(env()), testAddress());
    let result: RunResult;
    try {
      result = (await client.workflow.getHandle(runId).result()) as RunResult;
    } finally {
      await client.connection.close();
    }
    expect(result.status).toBe('completed');
    const spec = result.tickets[0]!.title;
    const review = sim.requests().find((r) => r.schemaName.includes('review'));
    expect(review).toBeDefined();

    for (const id of [runId, `${runId}/T1`, `${runId}/T3`]) {
      const { encodings, plain, text } = payloadTexts(await showHistory(id));
      expect(encodings.length).toBeGreaterThan(3);
      expect(plain).toEqual([]);
      for (const secret of [GOAL, 'Quiet Kettle', spec, 'acceptance']) expect(text).not.toContain(secret);
    }

    // Through `maestro codec-server`, the same CLI shows the history decrypted.
    const port = 17700 + Math.floor(Math.random() * 60);
    const codec = spawn(process.execPath, [CLI, 'codec-server', '--port', String(port)], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        codec.stderr.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Codec server listening')) resolve();
        });
        codec.once('exit', (c) => reject(new Error(`codec-server exited ${c}: ${out}`)));
      });
      const { encodings, text } = payloadTexts(
        await showHistory(runId, ['--codec-endpoint', `http://127.0.0.1:${port}`]),
      );
      expect(encodings).not.toContain(ENCRYPTED_ENCODING);
      expect(text).toContain(GOAL);
    } finally {
      codec.kill('SIGTERM');
    }
  });

  it('a wrong key or no key fails with a message that says what to fix', async () => {
    const wrong = await runCli(['status', runId, '--json'], env({ MAESTRO_ENCRYPTION_KEYS: `k2=${key(7)}` }), 60_000);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Cannot decrypt a payload with key "k2"');
    expect(wrong.stderr).toContain('MAESTRO_ENCRYPTION_KEYS');
    const none = await runCli(['status', runId, '--json'], env({ MAESTRO_ENCRYPTION_KEYS: '' }), 60_000);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('encrypted');
    expect(none.stderr).toContain('MAESTRO_ENCRYPTION_KEYS');
  });
});

describe('listing a namespace that holds encrypted runs', () => {
  it('a client without the key still lists every run: readable goals, and the encrypted one marked with why', async () => {
    const plainGoal = 'Build a landing page for a bakery called Open Loaf';
    const plain = await runCli(
      ['start', plainGoal, '--run-id', `${taskQueue}-plain`, '--plan-approval', 'manual'],
      env({ MAESTRO_ENCRYPTION_KEYS: '', MAESTRO_TASK_QUEUE: `${taskQueue}-nobody` }),
      60_000,
    );
    expect(plain.code).toBe(0);
    try {
      const listed = await runCli(['list', '--json'], env({ MAESTRO_ENCRYPTION_KEYS: '' }), 60_000);
      expect(listed.code).toBe(0);
      const runs = JSON.parse(listed.stdout) as { runId: string; goal: string; phase?: string }[];
      expect(runs.find((r) => r.runId === `${taskQueue}-plain`)?.goal).toBe(plainGoal);
      const sealed = runs.find((r) => r.runId === `${taskQueue}-run`);
      expect(sealed).toMatchObject({ goal: '(goal unreadable here)', phase: 'completed' });
      expect(listed.stderr).toContain('the goal of 1 run(s) could not be decoded here');
      expect(listed.stderr).toContain('MAESTRO_ENCRYPTION_KEYS');

      const withKey = await runCli(['list', '--json'], env(), 60_000);
      const all = JSON.parse(withKey.stdout) as { runId: string; goal: string }[];
      expect(all.find((r) => r.runId === `${taskQueue}-run`)?.goal).toBe(GOAL);
    } finally {
      await runCli(['cancel', `${taskQueue}-plain`], env({ MAESTRO_ENCRYPTION_KEYS: '' }), 60_000);
    }
  });
});

/** Every string under a `message` or `stackTrace` key of a raw history: what failures show without a codec. */
function failureTexts(history: unknown): { messages: string[]; stacks: string[] } {
  const messages: string[] = [];
  const stacks: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'message' && typeof x === 'string') messages.push(x);
      else if (k === 'stackTrace' && typeof x === 'string' && x !== '') stacks.push(x);
      else walk(x);
    }
  };
  walk(history);
  return { messages, stacks };
}

describe('failures of an encrypted run', () => {
  it('keep their messages and stack traces out of the stored history, and the CLI and api still show them', async () => {
    const secret = 'Quiet-Kettle-merger-codename-AURORA';
    const failedRun = `${taskQueue}-rejected`;
    const started = await runCli(
      ['start', GOAL, '--run-id', failedRun, '--plan-approval', 'manual', '--max-replans', '0'],
      env(),
      60_000,
    );
    expect(started.code).toBe(0);
    const client = await connectClient(loadConfig(env()), testAddress());
    try {
      await waitForStatus(
        client,
        failedRun,
        (s) => s.pendingGates.some((g) => g.kind === 'plan'),
        60_000,
        'the plan gate',
      );
      const rejected = await runCli(['reject', failedRun, '--comment', `do not mention ${secret}`], env(), 60_000);
      expect(rejected.code).toBe(0);
      await expect(client.workflow.getHandle(failedRun).result()).rejects.toThrow();

      // An activity failure whose message carries caller text: a file path in an export request.
      const exportId = `${taskQueue}-export`;
      await expect(
        client.workflow.execute('exportArtifactsWorkflow', {
          taskQueue,
          workflowId: exportId,
          args: [
            { runId: failedRun, chunks: [{ sha256: 'e'.repeat(64), path: `${secret}.txt`, offset: 0, length: 1 }] },
          ],
        }),
      ).rejects.toThrow();

      for (const id of [failedRun, exportId]) {
        const raw = await showHistory(id);
        const { messages, stacks } = failureTexts(raw);
        expect(messages.length).toBeGreaterThan(0);
        expect(JSON.stringify(raw)).not.toContain(secret);
        expect(payloadTexts(raw).text).not.toContain(secret);
        expect(messages.filter((m) => m !== 'Encoded failure' && m !== '')).toEqual([]);
        expect(stacks).toEqual([]);
      }

      // With the key, the CLI and the api read the messages as before.
      const status = await runCli(['status', failedRun, '--json'], env(), 60_000);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(secret);
      const why = await client.workflow
        .getHandle(exportId)
        .result()
        .catch((err: unknown) => err);
      expect(why).toBeInstanceOf(WorkflowFailedError);
      const causes: string[] = [];
      for (let e: unknown = why; e instanceof Error; e = e.cause) causes.push(e.message);
      expect(causes.join(' | ')).toContain(`${secret}.txt`);
    } finally {
      await client.connection.close();
    }
  });
});
