/**
 * The local runtime behind `maestro run` and `maestro dev`: it finds or starts Temporal, starts
 * the simulated LLM when no provider is configured, and starts in-process workers when no
 * worker polls the task queue (for `maestro run`/`dev`: the main queue and every role queue).
 * Everything it starts, `stop()` stops (also on Ctrl-C).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DefaultLogger, Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import { connectClient, connectWorker, LOCAL_ADDRESS } from '../client/connection';
import { workflowPollers } from '../client/pollers';
import { maestroDataConverter } from '../codec/data-converter';
import type { MaestroConfig } from '../config';
import { activityDepsFromConfig } from '../workers/activity-deps';
import { workerIdentity } from '../workers/llm-fingerprint';
import { createMaestroWorker, createRoleWorker } from '../workers/create-worker';
import { planWorkers, type QueueSelection, type WorkerSpec } from '../workers/role-queues';
import { isListening, MAESTRO_SEARCH_ATTRIBUTES, startDevServer, type DevServer } from './dev-server';
import { startSimLlm, type SimLlm } from './sim-llm';
import { startTracing } from '../telemetry/tracing';
import { chooseWorker } from './worker-choice';
import { resolveTemporalCli } from './temporal-cli';

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
  /** Every worker started, with what it polls. */
  workers: { spec: WorkerSpec; worker: Worker }[];
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
    const rt: LocalRuntime = { address: config.temporal.address ?? LOCAL_ADDRESS, workers: [], stop };
    if (!config.temporal.address && !(await isListening('127.0.0.1', 7233))) {
      const cli = await resolveTemporalCli({ maestroHome: config.home, log: opts.log });
      await mkdir(path.join(config.home, 'logs'), { recursive: true });
      opts.log(`Starting the embedded Temporal dev server (data: ${path.join(config.home, 'temporal.db')})...`);
      rt.devServer = await startDevServer({
        cliPath: cli.path,
        port: 7233,
        uiPort: config.uiPort,
        dbFile: path.join(config.home, 'temporal.db'),
        namespace: config.temporal.namespace,
        searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
        logFile: path.join(config.home, 'logs', 'temporal-server.log'),
      });
      const server = rt.devServer;
      stops.push(() => server.stop());
      rt.address = server.address;
      rt.uiUrl = server.uiUrl;
    } else if (!config.temporal.address) {
      rt.uiUrl = `http://localhost:${config.uiPort}`;
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
      const tracing = startTracing();
      if (tracing) stops.push(() => tracing.shutdown());
      const connection: NativeConnection = await connectWorker(config, rt.address);
      stops.push(() => connection.close());
      const identity = workerIdentity(workerConfig);
      for (const spec of workerConfig === config ? specs : planWorkers(workerConfig, 'all')) {
        const common = {
          connection,
          namespace: config.temporal.namespace,
          taskQueue: spec.taskQueue,
          deps: activityDepsFromConfig(workerConfig, llmBaseUrl, spec.roles),
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

let runtimeInstalled = false;

/**
 * The SDK's runtime can be installed once per process, before the first worker connection; with
 * a metrics address it serves worker and Maestro metrics for Prometheus there.
 */
function installRuntime(level: NonNullable<MaestroConfig['logLevel']>, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(level),
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true } } } }
      : {}),
  });
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
