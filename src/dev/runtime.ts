/**
 * The local runtime behind `maestro run` and `maestro dev`: it finds or starts Temporal, starts
 * the simulated LLM when no provider is configured, and starts in-process workers when no
 * worker polls the task queue (for `maestro run`/`dev`: the main queue and every role queue).
 * Everything it starts, `stop()` stops (also on Ctrl-C).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import { maestroSdkLogger } from '../workers/sdk-logger';
import { connectClient, connectWorker } from '../client/connection';
import { UnavailableError } from '../client/exit-codes';
import { workflowPollers } from '../client/pollers';
import { maestroDataConverter } from '../codec/data-converter';
import { embeddedPort, type MaestroConfig } from '../config';

export { embeddedPort } from '../config';
import { browserSetupProblem, pageCheckingRoles } from '../activities/tools/browser-check';
import { activityDepsFromConfig } from '../workers/activity-deps';
import { requireLlmProvider } from '../workers/llm-requirement';
import { workerIdentity } from '../workers/llm-fingerprint';
import { createMaestroWorker, createRoleWorker } from '../workers/create-worker';
import { planWorkers, type QueueSelection, type WorkerSpec } from '../workers/role-queues';
import {
  DevServerStartError,
  freePort,
  isListening,
  MAESTRO_SEARCH_ATTRIBUTES,
  startDevServer,
  type DevServer,
} from './dev-server';
import { portHolder } from './port-holder';
import { claimServer, describeOwner, readOwner, recordedUiUrl, recordUiUrl, type ServerOwner } from './server-owner';
import { startSimLlm, type SimLlm } from './sim-llm';
import { setLlmProvider } from '../telemetry/llm-provider';
import { METRIC_BUCKETS } from '../telemetry/metrics';
import { startTracing } from '../telemetry/tracing';
import type { CodecServer } from '../codec/codec-server';
import { startDevCodecServer } from './dev-codec';
import { chooseWorker } from './worker-choice';
import { resolveTemporalCli } from './temporal-cli';
import { prepareSandboxHost } from '../activities/tools/sandbox';

/** What a command needs from the runtime. */
export interface RuntimeOptions {
  log: (line: string) => void;
  /** 'auto': start a worker only when none polls the task queue. */
  worker: 'auto' | 'always' | 'never';
  /** Simulated LLM port when one is started (0 = any free port). */
  simPort?: number;
  /** Queues the started workers poll; default 'all' (main queue and every role queue). */
  queues?: QueueSelection;
  /** `host:port` of the Prometheus endpoint of the worker runtime (`maestro worker --metrics`). */
  metricsAddress?: string;
  /**
   * The embedded dev server (only without TEMPORAL_ADDRESS): 'own' starts it and refuses when the
   * port is taken (`maestro dev`); 'start' starts it when nothing listens (`maestro run`/`start`);
   * 'existing' (default) never starts one and says what to start instead.
   */
  server?: 'own' | 'start' | 'existing';
  /** The command, recorded as the owner of a server it starts (`dev`, `run`, `start`). */
  command?: string;
  /** Webhooks the person named on this command line (`maestro run --notify`): its own worker may post to them. */
  ownWebhooks?: readonly string[];
  /** Port of a codec server for the Web UI of an embedded server it starts, when encryption is on (dev-codec.ts). */
  codecPort?: number;
}

/** Handles on what the runtime started; `stop()` undoes all of it. */
export interface LocalRuntime {
  address: string;
  /** Web UI base URL, when it is known to be up (embedded server) or configured locally. */
  uiUrl?: string;
  devServer?: DevServer;
  sim?: SimLlm;
  /** The configuration the run must use when it differs from the caller's: a private task queue (worker-choice.ts). */
  config?: MaestroConfig;
  /** True when the run goes to running workers whose LLM settings differ from the caller's. */
  otherWorkerSettings?: boolean;
  /** The codec server started for the Web UI (`codecPort` with encryption keys). */
  codecUrl?: string;
  /** Every worker started, with what it polls. */
  workers: { spec: WorkerSpec; worker: Worker }[];
  /** Set when a started worker serves roles with `check_page` but cannot launch a browser: what to fix. */
  browserProblem?: string;
  stop(): Promise<void>;
}

/** Brings up whatever is missing for a run, as described in the module comment. */
export async function startLocalRuntime(config: MaestroConfig, opts: RuntimeOptions): Promise<LocalRuntime> {
  // `maestro run` reports failures itself; its in-process worker's warnings would only repeat them.
  installRuntime(config.logLevel ?? (opts.worker === 'auto' ? 'ERROR' : 'WARN'), opts.metricsAddress);
  const specs = planWorkers(config, opts.queues ?? 'all'); // bad --roles fail before anything starts
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => opts.log(`warning: ${(err as Error).message}`));
    stops.length = 0;
  };
  try {
    const port = embeddedPort();
    const rt: LocalRuntime = { address: config.temporal.address ?? `localhost:${port}`, workers: [], stop };
    if (!config.temporal.address) {
      const started = await ensureEmbeddedServer(config, opts, port);
      if (started) {
        stops.push(started.stop);
        rt.devServer = started.server;
        rt.address = started.server.address;
        rt.uiUrl = started.server.uiUrl;
        if (started.codecUrl) rt.codecUrl = started.codecUrl;
      } else {
        // The URL its owner recorded (the real port, also when MAESTRO_UI_PORT=0 picked it).
        const recorded = recordedUiUrl(port);
        if (recorded) rt.uiUrl = recorded;
        else if (config.uiPort !== 0) rt.uiUrl = `http://localhost:${config.uiPort}`;
      }
    }

    let llmBaseUrl: string | undefined;
    let wantWorker = opts.worker === 'always';
    let workerConfig = config;
    if (opts.worker === 'auto') {
      const choice = await chooseRunWorker(config, rt.address, opts.log);
      wantWorker = choice.kind !== 'use';
      if (choice.kind === 'use' && choice.theirs) rt.otherWorkerSettings = true;
      if (choice.kind === 'private') rt.config = workerConfig = choice.config;
    }
    if (wantWorker) requireLlmProvider(config);
    if (wantWorker && config.llm.simulated) {
      const sim = await startSimLlm({ port: opts.simPort ?? 0, maxRecords: 1000, latencyMs: config.simLatencyMs });
      stops.push(() => sim.close());
      rt.sim = sim;
      llmBaseUrl = sim.baseUrl;
      opts.log(
        `No OPENAI_API_KEY or OPENAI_BASE_URL set: using Maestro's SIMULATED LLM at ${sim.baseUrl} (deterministic offline answers, simulated prices).`,
      );
    }
    if (wantWorker) {
      // What SIGKILLed workers of this host left behind (workspaces, cgroups) goes first.
      await prepareSandboxHost();
      const served = workerConfig === config ? specs : planWorkers(workerConfig, 'all');
      const pageRoles = [...new Set(pageCheckingRoles(served.flatMap((s) => s.roles)))];
      // Said at start, loudly: a missing browser is a setup problem, not something a Tester should find.
      const problem = pageRoles.length > 0 ? await browserSetupProblem(pageRoles) : undefined;
      if (problem) {
        rt.browserProblem = problem;
        opts.log(`WARNING: ${problem} Until then this worker's page checks do not run (the agent is told).`);
      }
      const tracing = startTracing();
      if (tracing) stops.push(() => tracing.shutdown());
      setLlmProvider(workerConfig.llm.provider);
      const connection: NativeConnection = await connectWorker(config, rt.address);
      stops.push(() => connection.close());
      const identity = workerIdentity(workerConfig);
      for (const spec of workerConfig === config ? specs : planWorkers(workerConfig, 'all')) {
        const common = {
          connection,
          namespace: config.temporal.namespace,
          taskQueue: spec.taskQueue,
          deps: activityDepsFromConfig(workerConfig, llmBaseUrl, spec.roles, opts.ownWebhooks),
          dataConverter: maestroDataConverter(config),
          overrides: { identity },
        };
        const worker = spec.kind === 'main' ? await createMaestroWorker(common) : await createRoleWorker(common);
        const running = worker.run();
        stops.push(async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => undefined);
        });
        rt.workers.push({ spec, worker });
      }
    }
    return rt;
  } catch (err) {
    await stop();
    throw err;
  }
}

const NO_SERVER_HINT =
  'Start `maestro dev` in another terminal (or set TEMPORAL_ADDRESS to a running server), then try again.';

/**
 * Makes sure a server listens on localhost:`port` as `opts.server` asks; returns what it started.
 * A server owned by a short-lived command is never borrowed: it stops when that command ends.
 */
async function ensureEmbeddedServer(
  config: MaestroConfig,
  opts: RuntimeOptions,
  port: number,
): Promise<{ server: DevServer; stop: () => Promise<void>; codecUrl?: string } | undefined> {
  const mode = opts.server ?? 'existing';
  const command = opts.command ?? 'run';
  const listening = await isListening('127.0.0.1', port);
  const owner = readOwner(port);
  if (mode === 'existing') {
    if (listening) return undefined;
    throw new UnavailableError(`No Temporal server is running on localhost:${port}. ${NO_SERVER_HINT}`);
  }
  if (owner && owner.pid !== process.pid) {
    if (mode === 'start' && owner.command === 'dev') {
      if (!listening) await waitForPort(port, owner);
      return undefined;
    }
    throw busy(port, owner, mode);
  }
  if (listening) {
    if (mode === 'start') return undefined; // a server Maestro did not start (e.g. `temporal server start-dev`)
    throw new DevServerStartError(
      `localhost:${port} is already in use by a process Maestro did not start${portHolder(port)}. ` +
        `\`maestro dev\` runs its own Temporal server: stop that process, or use it with \`TEMPORAL_ADDRESS=localhost:${port} maestro worker\`, or pick another port with MAESTRO_TEMPORAL_PORT.`,
    );
  }
  const claim = claimServer(port, command, config.home);
  if ('owner' in claim) throw busy(port, claim.owner, mode);
  let codec: CodecServer | undefined;
  try {
    // MAESTRO_UI_PORT=0: pick the port now, so the codec server allows the UI's real origin.
    const uiPort = config.uiPort === 0 ? await freePort('127.0.0.1') : config.uiPort;
    if (opts.codecPort !== undefined) codec = await startDevCodecServer({ ...config, uiPort }, opts.codecPort);
    const cli = await resolveTemporalCli({ maestroHome: config.home, log: opts.log });
    await mkdir(path.join(config.home, 'logs'), { recursive: true });
    opts.log(`Starting the embedded Temporal dev server (data: ${path.join(config.home, 'temporal.db')})...`);
    const server = await startDevServer({
      cliPath: cli.path,
      port,
      uiPort,
      uiPortSetting: 'MAESTRO_UI_PORT',
      dbFile: path.join(config.home, 'temporal.db'),
      namespace: config.temporal.namespace,
      searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
      logFile: path.join(config.home, 'logs', 'temporal-server.log'),
      ...(codec ? { uiCodecEndpoint: codec.endpoint } : {}),
    });
    if (server.uiUrl) recordUiUrl(port, server.uiUrl);
    return {
      server,
      ...(codec ? { codecUrl: codec.endpoint } : {}),
      stop: async () => {
        try {
          await server.stop();
        } finally {
          await codec?.close();
          claim.release();
        }
      },
    };
  } catch (err) {
    await codec?.close();
    claim.release();
    throw err;
  }
}

function busy(port: number, owner: ServerOwner, mode: 'own' | 'start'): Error {
  const what =
    owner.command === 'dev'
      ? `\`maestro dev\` already serves Temporal on localhost:${port}: ${describeOwner(owner)}. Use that one (runs started now go to it), or stop it first.`
      : `The Temporal server on localhost:${port} belongs to another command, ${describeOwner(owner)}, and stops when it ends. ` +
        (mode === 'own'
          ? 'Let it finish (or stop it), then start `maestro dev` again.'
          : 'To run several goals at once, start `maestro dev` in another terminal first; runs started then share its server.');
  return new UnavailableError(what);
}

async function waitForPort(port: number, owner: ServerOwner): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (await isListening('127.0.0.1', port)) return;
    if (!readOwner(port)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new UnavailableError(
    `The Temporal server that ${describeOwner(owner)} is starting on localhost:${port} did not come up. ${NO_SERVER_HINT}`,
  );
}

let runtimeInstalled = false;

/**
 * The SDK's runtime can be installed once per process, before the first worker connection; with
 * a metrics address it serves worker and Maestro metrics for Prometheus there.
 */
function installRuntime(level: NonNullable<MaestroConfig['logLevel']>, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    // The SDK's DefaultLogger without the "No workflows registered" warning of role workers (sdk-logger.ts).
    logger: maestroSdkLogger(level),
    // No SDK shutdown on signals: the CLI stops its workers itself, before the server they talk to.
    shutdownSignals: [],
    ...(metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: metricsAddress,
                countersTotalSuffix: true,
                histogramBucketOverrides: METRIC_BUCKETS,
              },
            },
          },
        }
      : {}),
  });
}

/** Whether some worker already polls Maestro's workflow task queue. */
export async function hasPollers(config: MaestroConfig, address: string): Promise<boolean> {
  const client = await connectClient(config, address);
  try {
    return (await workflowPollers(client, config.temporal.taskQueue)).length > 0;
  } finally {
    await client.connection.close();
  }
}

/** Asks Temporal who polls the main queue and decides who runs the run (see worker-choice.ts). */
async function chooseRunWorker(config: MaestroConfig, address: string, log: (line: string) => void) {
  const client = await connectClient(config, address);
  try {
    const choice = chooseWorker(config, await workflowPollers(client, config.temporal.taskQueue));
    if (choice.kind !== 'start') log(choice.notice);
    return choice;
  } finally {
    await client.connection.close();
  }
}
