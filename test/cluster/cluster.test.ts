/**
 * Maestro on a self-hosted Temporal cluster: the official server built from its Go module (the
 * version docker-compose.yml runs) on PostgreSQL from the distribution's packages, schema from
 * `temporal-sql-tool`, SQL visibility with Maestro's search attributes (`maestro setup`), mTLS on
 * the frontend and encrypted payloads. Two worker processes (main queue; the coder's own queue)
 * and a client process, each with its own MAESTRO_HOME (the workers share one artifact folder, as
 * a shared volume would). The server and one worker are killed with SIGKILL mid-run.
 *
 * Run with `npm run test:cluster` (not part of `npm test`: the first run builds the server).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/client/connection';
import { loadConfig } from '../../src/config';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RunResult, RunStatus } from '../../src/shared/types';
import { cleanEnv, runCli } from '../helpers/cli';
import { waitForStatus } from '../helpers/runs';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { makeTestCerts, type TestCerts } from './helpers/certs';
import { startPostgres, type Postgres } from './helpers/postgres';
import { composeServerVersion, ensureTemporalServer, TEMPORAL_SERVER_VERSION } from './helpers/server-binary';
import { createSchemas, startTemporalServer, type TemporalServer } from './helpers/temporal-server';

const REPO = path.resolve(__dirname, '..', '..');
const BASE_PORT = Number(process.env.MAESTRO_CLUSTER_PORT_BASE ?? 17700);
const GOAL = 'Build a landing page for a tea room called Steep';
const KEY = Buffer.alloc(32, 7).toString('base64');
const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'maestro-cluster-'));
let pg: Postgres | undefined;
let server: TemporalServer | undefined;
let sim: SimLlm;
let certs: TestCerts;
let client: Client;
const workers: WorkerProcess[] = [];
const timings: Record<string, number> = {};

/** Environment of every Maestro process: the cluster, mTLS, encryption; its own MAESTRO_HOME. */
function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    TEMPORAL_ADDRESS: server!.address,
    TEMPORAL_TLS_CERT: certs.clientCert,
    TEMPORAL_TLS_KEY: certs.clientKey,
    TEMPORAL_TLS_CA: certs.caCert,
    TEMPORAL_TLS_SERVER_NAME: certs.serverName,
    MAESTRO_ENCRYPTION_KEYS: `k1=${KEY}`,
    MAESTRO_TASK_QUEUE: 'maestro-cluster',
    MAESTRO_CONFIG: path.join(tmp, 'maestro.config.json'),
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_LOG_LEVEL: 'ERROR',
    MAESTRO_HOME: home,
    ...extra,
  });
}

const workerHome = path.join(tmp, 'worker-home'); // shared by both workers, like a shared volume
const clientHome = path.join(tmp, 'client-home');

async function startWorker(args: string[] = []): Promise<WorkerProcess> {
  const w = await spawnWorker(env(workerHome), args);
  workers.push(w);
  return w;
}

async function status(runId: string): Promise<RunStatus> {
  const res = await runCli(['status', runId, '--json'], env(clientHome), 60_000);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as RunStatus;
}

beforeAll(async () => {
  let t = Date.now();
  const build = await ensureTemporalServer(log);
  timings.buildSeconds = build.buildSeconds;
  t = Date.now();
  pg = await startPostgres({ port: BASE_PORT + 32 });
  await createSchemas(build, pg);
  certs = await makeTestCerts(mkdtempSync(path.join(tmp, 'certs-')));
  server = await startTemporalServer({
    build,
    postgres: pg,
    dir: path.join(tmp, 'temporal'),
    port: BASE_PORT + 33,
    tls: certs,
    log,
  });
  timings.clusterStartSeconds = Math.round((Date.now() - t) / 1000);
  sim = await startSimLlm({ port: 0, latencyMs: 300 });
  writeFileSync(
    path.join(tmp, 'maestro.config.json'),
    JSON.stringify({
      roles: [{ name: 'designer' }, { name: 'writer' }, { name: 'coder', taskQueue: true }, { name: 'tester' }],
    }),
  );
  client = await connectClient(loadConfig(env(clientHome)), server.address);
}, 900_000);

afterAll(async () => {
  for (const w of workers) await w.kill();
  await client?.connection.close();
  await sim?.close();
  await server?.stop();
  await pg?.stop();
  log(`timings: ${JSON.stringify(timings)}`);
  rmSync(tmp, { recursive: true, force: true });
});

describe('Maestro on the Go-built Temporal server with PostgreSQL, mTLS and encryption', () => {
  it('runs the server version docker-compose.yml pins', () => {
    expect(composeServerVersion(REPO)).toBe(TEMPORAL_SERVER_VERSION);
  });

  it('maestro setup creates the namespace and registers the search attributes in SQL visibility', async () => {
    const res = await runCli(['setup', '--json'], env(clientHome), 180_000);
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as { searchAttributes: { name: string; action: string }[] };
    expect(report.searchAttributes.map((s) => s.name).sort()).toEqual(
      ['MaestroCostUsd', 'MaestroPhase', 'MaestroRoles', 'MaestroRunId'].sort(),
    );
  });

  // Each TLS mistake fails fast (not after the 10 s connect timeout) with a message naming the fix.
  const tlsCases: [string, () => NodeJS.ProcessEnv, RegExp][] = [
    [
      'a client certificate from another CA',
      () => ({ TEMPORAL_TLS_CERT: certs.otherClientCert, TEMPORAL_TLS_KEY: certs.otherClientKey }),
      /refused this client certificate[\s\S]*CN=other-ca[\s\S]*TEMPORAL_TLS_CERT/,
    ],
    [
      'no client certificate',
      () => ({ TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' }),
      /requires a client certificate \(mTLS\)[\s\S]*TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/,
    ],
    [
      'a wrong server name',
      () => ({ TEMPORAL_TLS_SERVER_NAME: 'wrong.maestro.test' }),
      /not valid for the name "wrong\.maestro\.test"[\s\S]*DNS:temporal\.maestro\.test[\s\S]*TEMPORAL_TLS_SERVER_NAME/,
    ],
    [
      'no CA for the private server certificate',
      () => ({ TEMPORAL_TLS_CA: '' }),
      /not signed by a CA this client trusts[\s\S]*CN=maestro-test-ca[\s\S]*Set TEMPORAL_TLS_CA/,
    ],
    [
      'another CA as TEMPORAL_TLS_CA',
      () => ({ TEMPORAL_TLS_CA: certs.otherCaCert }),
      /not signed by the CA in TEMPORAL_TLS_CA \(CN=other-ca\)/,
    ],
  ];
  it.each(tlsCases)('with %s the CLI says what is wrong with TLS, within seconds', async (_what, extra, expected) => {
    const t = Date.now();
    const res = await runCli(['list', '--json'], env(clientHome, extra()), 60_000);
    const seconds = (Date.now() - t) / 1000;
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`TLS error connecting to Temporal at ${server!.address}`);
    expect(res.stderr).toMatch(expected);
    expect(res.stderr).not.toContain('maestro dev');
    expect(seconds).toBeLessThan(6);
  });

  it('a worker with a client certificate from another CA stops within seconds, saying so', async () => {
    const t = Date.now();
    const res = await runCli(
      ['worker'],
      env(workerHome, { TEMPORAL_TLS_CERT: certs.otherClientCert, TEMPORAL_TLS_KEY: certs.otherClientKey }),
      60_000,
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/TLS error connecting to Temporal[\s\S]*refused this client certificate/);
    expect((Date.now() - t) / 1000).toBeLessThan(8);
  });

  it('a plain-text client of the TLS server is told the server requires TLS', async () => {
    const res = await runCli(
      ['list', '--json'],
      env(clientHome, {
        TEMPORAL_TLS: 'false',
        TEMPORAL_TLS_CERT: '',
        TEMPORAL_TLS_KEY: '',
        TEMPORAL_TLS_CA: '',
        TEMPORAL_TLS_SERVER_NAME: '',
      }),
      60_000,
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/TLS error connecting to Temporal[\s\S]*requires TLS[\s\S]*TEMPORAL_TLS=true/);
  });

  it('two worker processes and a client in separate homes complete a run; the server is SIGKILLed mid-run and restarted', async () => {
    const t = Date.now();
    await startWorker([]);
    await startWorker(['--roles', 'coder']);
    const runId = 'cluster-run-1';
    const started = await runCli(['start', GOAL, '--run-id', runId], env(clientHome), 60_000);
    expect(started.code).toBe(0);
    await waitForStatus(client, runId, (s) => s.phase === 'executing', 120_000, 'executing');

    await server!.kill9();
    await new Promise((r) => setTimeout(r, 2000)); // workers see the server gone
    await server!.restart();

    const final = await waitForStatus(client, runId, (s) => s.phase === 'completed', 240_000, 'completed');
    expect(final.tickets.every((tk) => tk.state === 'accepted')).toBe(true);
    const shown = await status(runId);
    expect(shown.phase).toBe('completed');
    // The client's home holds no artifacts (they are on the workers' volume): it reads the result
    // JSON through Temporal; assembling the files on another disk is `maestro result`'s job once
    // outputs can be fetched without a shared disk.
    const result = (await client.workflow.getHandle(runId).result()) as RunResult;
    expect(result.status).toBe('completed');
    expect(result.manifest.length).toBeGreaterThan(0);
    // SQL visibility answers Maestro's search-attribute queries.
    const listed = await runCli(['list', '--phase', 'completed', '--json'], env(clientHome), 60_000);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(runId);
    timings.serverKillRunSeconds = Math.round((Date.now() - t) / 1000);
  }, 600_000);

  it('a SIGKILLed coder worker is replaced and the run completes', async () => {
    const t = Date.now();
    const runId = 'cluster-run-2';
    sim.clearRequests();
    const started = await runCli(['start', GOAL, '--run-id', runId], env(clientHome), 60_000);
    expect(started.code).toBe(0);
    // Kill the coder's worker while it works on a ticket (an LLM call of the work schema in flight).
    const deadline = Date.now() + 120_000;
    while (!sim.requests().some((r) => r.schemaName === SCHEMA_NAMES.work && r.status === 0 && r.ticketId === 'T3')) {
      if (Date.now() > deadline) throw new Error('the coder never started working');
      await new Promise((r) => setTimeout(r, 50));
    }
    const coder = workers.find((w) => w.child.spawnargs.includes('--roles'))!;
    await coder.kill();
    await startWorker(['--roles', 'coder']);
    const final = await waitForStatus(client, runId, (s) => s.phase === 'completed', 240_000, 'completed');
    expect(final.tickets.every((tk) => tk.state === 'accepted')).toBe(true);
    timings.workerKillRunSeconds = Math.round((Date.now() - t) / 1000);
  }, 600_000);
});
