/**
 * docker-compose.yml, run without Docker: each service's command, environment and volumes, read
 * from the parsed file, run natively against the Go-built server (the version the compose image
 * pins) and Debian's PostgreSQL, with the compose network's names and ports mapped to 127.0.0.1
 * and free ports. Shows that the `temporal` service starts with its env and dynamic config volume,
 * the admin-tools job registers the search attributes, the worker refuses to start without an LLM
 * provider, and with one allowed it runs a real run to completion with encryption, passes its
 * healthcheck and drains within its stop_grace_period, and the codec server the UI points at
 * decodes that run's payloads.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../src/client/connection';
import { loadConfig } from '../../src/config';
import { resolveTemporalCli } from '../../src/dev/temporal-cli';
import { cleanEnv, runCli } from '../helpers/cli';
import { waitForStatus } from '../helpers/runs';
import * as compose from './helpers/compose';
import { imageRoot, setupSchemas, startImageServer, type ComposeTemporal } from './helpers/compose-temporal';
import { startPostgres, type Postgres } from './helpers/postgres';
import { ensureTemporalServer, type TemporalServerBuild } from './helpers/server-binary';
import { execProcess, startProcess, type NativeProcess } from './helpers/native-process';

const REPO = path.resolve(__dirname, '..', '..');
const BASE = Number(process.env.MAESTRO_CLUSTER_PORT_BASE ?? 17700) + 60;
const PORTS = { 5432: BASE, 7233: BASE + 1, 9464: BASE + 20, 8888: BASE + 21 };
/**
 * The server's ports in its container (the image's defaults: 7233 published, the rest private),
 * moved to the test's ports through the image template's own variables.
 */
const INTERNAL_PORTS: Record<string, string> = {
  FRONTEND_GRPC_PORT: String(PORTS[7233]),
  ...Object.fromEntries(
    ['FRONTEND_HTTP', 'FRONTEND_MEMBERSHIP', 'HISTORY_GRPC', 'HISTORY_MEMBERSHIP', 'MATCHING_GRPC']
      .concat(['MATCHING_MEMBERSHIP', 'WORKER_GRPC', 'WORKER_MEMBERSHIP'])
      .map((name, i) => [`${name}_PORT`, String(BASE + 2 + i)]),
  ),
};
const KEY = Buffer.alloc(32, 9).toString('base64');
const GOAL = 'Build a landing page for a bakery called Crumb';
const log = (line: string) => process.stderr.write(`[compose] ${line}\n`);

const file = compose.readCompose(REPO);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'maestro-compose-'));
const map: compose.NativeMap = {
  hosts: Object.keys(file.services),
  ports: PORTS,
  paths: { '/data': path.join(tmp, 'data'), '/run/secrets/maestro': path.join(tmp, 'secrets') },
};
/** The shell that runs `docker compose up`: no provider, no keys. */
const SHELL: NodeJS.ProcessEnv = { PATH: process.env.PATH };
const ADDRESS = `127.0.0.1:${PORTS[7233]}`;

let build: TemporalServerBuild;
let pg: Postgres | undefined;
let server: ComposeTemporal | undefined;
let temporalCli: string;
let client: Client | undefined;
const started: NativeProcess[] = [];
const timings: Record<string, number> = {};

function service(name: string): compose.ComposeService {
  const s = file.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** A Maestro image service (worker, codec server) as a native process: `node` from the repo (the image's /app). */
function maestroProcess(name: string, shell: NodeJS.ProcessEnv): { argv: string[]; env: Record<string, string> } {
  const svc = service(name);
  const argv = compose.serviceArgv(svc, shell, compose.imageCmd(REPO)).map((a) => compose.toNative(a, map));
  if (argv[0] === 'node') argv[0] = process.execPath;
  const env = { ...compose.imageEnv(REPO), ...compose.nativeEnv(compose.serviceEnv(svc, shell), map) };
  return { argv, env: { PATH: process.env.PATH ?? '', ...compose.nativeEnv(env, map) } };
}

/** The worker's healthcheck command, natively. */
async function healthcheck(): Promise<{ code: number | null; out: string }> {
  const argv = service('maestro-worker')
    .healthcheck!.test.slice(1)
    .map((a) => compose.toNative(a, map));
  if (argv[0] === 'node') argv[0] = process.execPath;
  return execProcess(argv, { cwd: REPO, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 10_000 });
}

beforeAll(async () => {
  build = await ensureTemporalServer(log);
  timings.buildSeconds = build.buildSeconds;
  pg = await startPostgres({ port: PORTS[5432] });
  temporalCli = path.resolve(REPO, (await resolveTemporalCli({ maestroHome: path.join(REPO, '.maestro'), log })).path);
  mkdirSync(map.paths['/data']!, { recursive: true });
  mkdirSync(map.paths['/run/secrets/maestro']!, { recursive: true });
}, 900_000);

afterAll(async () => {
  for (const p of started) await p.stop();
  await client?.connection.close();
  await server?.stop();
  await pg?.stop();
  log(`timings: ${JSON.stringify(timings)}`);
  rmSync(tmp, { recursive: true, force: true });
});

describe('docker-compose.yml, each service run natively from the parsed file', () => {
  it('the temporal service: without its dynamic config volume the server exits at start, naming the file', async () => {
    const env = { ...compose.nativeEnv(compose.serviceEnv(service('temporal'), SHELL), map), ...INTERNAL_PORTS };
    const root = imageRoot(path.join(tmp, 'no-volume'), build, [], REPO);
    const t = Date.now();
    await expect(startImageServer(build, root, env, ADDRESS)).rejects.toThrow(
      /exited during start-up[\s\S]*development-sql\.yaml/,
    );
    timings.missingConfigSeconds = Math.round((Date.now() - t) / 1000);
  });

  it('the temporal service: its env and volumes start the Go-built server; its healthcheck passes', async () => {
    const t = Date.now();
    const svc = service('temporal');
    const env = { ...compose.nativeEnv(compose.serviceEnv(svc, SHELL), map), ...INTERNAL_PORTS };
    expect(env.DYNAMIC_CONFIG_FILE_PATH).toBe('config/dynamicconfig/development-sql.yaml');
    await setupSchemas(build, env);
    const root = imageRoot(path.join(tmp, 'etc-temporal'), build, compose.serviceVolumes(svc), REPO);
    server = await startImageServer(build, root, env, ADDRESS);
    // auto-setup's last step: the default namespace.
    const ns = await execProcess(
      [temporalCli, 'operator', 'namespace', 'create', '--namespace', 'default', '--address', ADDRESS],
      {
        timeoutMs: 60_000,
      },
    );
    expect(ns.code).toBe(0);
    const argv = svc.healthcheck!.test.slice(1).map((a) => compose.toNative(a, map));
    expect(argv[0]).toBe('temporal');
    const health = await execProcess([temporalCli, ...argv.slice(1)], { timeoutMs: 60_000 });
    expect(health.out).toContain('default');
    expect(health.code).toBe(0);
    timings.temporalSeconds = Math.round((Date.now() - t) / 1000);
  }, 300_000);

  it("the admin-tools job's command registers Maestro's search attributes", async () => {
    const t = Date.now();
    const svc = service('temporal-admin-tools');
    const argv = compose.serviceArgv(svc, SHELL);
    const env = compose.nativeEnv(compose.serviceEnv(svc, SHELL), map);
    const res = await execProcess(argv, {
      env: { ...env, PATH: `${path.dirname(temporalCli)}:${process.env.PATH}` },
      timeoutMs: 180_000,
    });
    expect(res.code).toBe(0);
    for (const name of ['MaestroPhase', 'MaestroRunId', 'MaestroRoles', 'MaestroCostUsd'])
      expect(res.out).toContain(name);
    expect(res.out).toContain('Maestro search attributes registered');
    timings.adminToolsSeconds = Math.round((Date.now() - t) / 1000);
  }, 300_000);

  it('the worker refuses to start without an LLM provider, saying what to set', async () => {
    const { argv, env } = maestroProcess('maestro-worker', SHELL);
    expect(env.MAESTRO_REQUIRE_LLM).toBe('1');
    const res = await execProcess(argv, { cwd: REPO, env, timeoutMs: 60_000 });
    expect(res.code).toBe(2);
    expect(res.out).toContain('MAESTRO_REQUIRE_LLM=1');
    expect(res.out).toContain('OPENAI_API_KEY');
    expect(res.out).not.toMatch(/SIMULATED LLM at/);
  }, 120_000);

  it('the worker (simulated LLM allowed, encryption on) passes its healthcheck, completes a run, and drains within stop_grace_period', async () => {
    const t = Date.now();
    const shell = { ...SHELL, MAESTRO_REQUIRE_LLM: '0', MAESTRO_ENCRYPTION_KEYS: `k1=${KEY}` };
    expect((await healthcheck()).code).toBe(1); // nothing serves the metrics yet: the check can fail
    const { argv, env } = maestroProcess('maestro-worker', shell);
    expect(env).toMatchObject({ MAESTRO_ENCRYPTION_KEYS: `k1=${KEY}`, MAESTRO_HOME: map.paths['/data'] });
    const worker = startProcess(argv, { cwd: REPO, env });
    started.push(worker);
    const svc = service('maestro-worker');
    const deadline = Date.now() + compose.durationSeconds(svc.healthcheck!.start_period!) * 1000;
    let health = await healthcheck();
    while (health.code !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      health = await healthcheck();
    }
    if (health.code !== 0) throw new Error(`healthcheck: ${health.out}\nworker:\n${worker.output()}`);
    expect(health.out).toContain('worker healthy');
    timings.workerHealthySeconds = Math.round((Date.now() - t) / 1000);

    const clientEnv = cleanEnv({
      TEMPORAL_ADDRESS: ADDRESS,
      MAESTRO_ENCRYPTION_KEYS: `k1=${KEY}`,
      MAESTRO_HOME: path.join(tmp, 'client'),
    });
    client = await connectClient(loadConfig(clientEnv), ADDRESS);
    const runId = 'compose-run-1';
    const res = await runCli(['start', GOAL, '--run-id', runId], clientEnv, 60_000);
    expect(res.code).toBe(0);
    const final = await waitForStatus(client, runId, (s) => s.phase === 'completed', 240_000, 'completed');
    expect(final.tickets.every((tk) => tk.state === 'accepted')).toBe(true);
    expect(worker.output()).toContain('SIMULATED LLM');
    timings.runSeconds = Math.round((Date.now() - t) / 1000);

    // docker stop mid-run: SIGTERM while a second run executes; the worker must drain in time.
    expect((await runCli(['start', GOAL, '--run-id', 'compose-run-2'], clientEnv, 60_000)).code).toBe(0);
    await waitForStatus(client, 'compose-run-2', (s) => s.phase === 'executing', 120_000, 'executing');
    const stopAt = Date.now();
    const code = await worker.stop('SIGTERM', 120_000);
    const drained = (Date.now() - stopAt) / 1000;
    expect(code).toBe(0);
    expect(drained).toBeLessThan(compose.durationSeconds(svc.stop_grace_period!));
    timings.workerDrainSeconds = Math.round(drained);
  }, 600_000);

  it("the codec server service (profile encryption) decodes the run's payloads at the endpoint the UI is given", async () => {
    const shell = { ...SHELL, MAESTRO_ENCRYPTION_KEYS: `k1=${KEY}` };
    const ui = service('temporal-ui');
    expect(compose.serviceEnv(ui, SHELL).TEMPORAL_CODEC_ENDPOINT).toBe(''); // no keys: no codec
    const endpoint = compose.serviceEnv(ui, shell).TEMPORAL_CODEC_ENDPOINT!;
    expect(endpoint).toBe('http://localhost:8888');
    const svc = service('maestro-codec-server');
    expect(svc.profiles).toEqual(['encryption']);
    // The browser reaches the codec server at the port the service publishes.
    expect(compose.publishedPorts(svc)).toContainEqual({
      ip: '127.0.0.1',
      host: Number(new URL(endpoint).port),
      container: 8888,
    });
    const { argv, env } = maestroProcess('maestro-codec-server', shell);
    const codec = startProcess(argv, { cwd: REPO, env });
    started.push(codec);
    const deadline = Date.now() + 30_000;
    while (!codec.output().includes('Codec server listening') && Date.now() < deadline) {
      if (codec.child.exitCode !== null) throw new Error(`codec server exited: ${codec.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const history = await client!.workflow.getHandle('compose-run-1').fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/encrypted');
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const res = await fetch(`${compose.toNative(endpoint, map)}/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://localhost:8233' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, b64(v)])),
            data: b64(input.data!),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(compose.serviceEnv(ui, shell).TEMPORAL_CORS_ORIGINS);
    const decoded = (await res.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(GOAL);
  }, 120_000);

  it('a TLS client of the plain-text temporal service is told the server does not use TLS, within seconds', async () => {
    const t = Date.now();
    const res = await runCli(
      ['list', '--json'],
      cleanEnv({ TEMPORAL_ADDRESS: ADDRESS, TEMPORAL_TLS: 'true', MAESTRO_HOME: path.join(tmp, 'tls-client') }),
      60_000,
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(
      /TLS error connecting to Temporal at [^\n]*: the server does not use TLS[\s\S]*TEMPORAL_TLS=true/,
    );
    expect((Date.now() - t) / 1000).toBeLessThan(6);
  });
});
