/**
 * What the run benchmark runs against: the official Temporal dev server in memory on free ports,
 * the simulated LLM without latency and an in-process Maestro worker (the pre-built workflow
 * bundle when there is one). `stop()` stops all of it, also on Ctrl-C, and is safe to call twice.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { StructuredLlm } from '../activities/llm/structured';
import { ToolLlm } from '../activities/llm/tool-turn';
import { MaestroClient } from '../client/api';
import { MAESTRO_SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../dev/dev-server';
import { startSimLlm, SIM_MODEL, type SimLlm } from '../dev/sim-llm';
import { resolveTemporalCli, TemporalCliNotFoundError } from '../dev/temporal-cli';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../shared/roles';
import { createMaestroWorker } from '../workers/create-worker';
import { BenchSetupError, type BenchContext } from './types';
import { REVIEW_EXCERPT_CHARS } from '../shared/constants';

const NAMESPACE = 'default';

/** The running environment of the run benchmark. */
export interface RunEnv {
  client: Client;
  maestro: MaestroClient;
  server: DevServer;
  sim: SimLlm;
  worker: Worker;
  taskQueue: string;
  /** 'prebuilt' when dist/workflow-bundle.js was loaded, 'source' when the worker bundled at start. */
  bundle: 'prebuilt' | 'source';
  /** How the Temporal CLI was found (env, path, local, pip). */
  cliSource: string;
  /** Milliseconds to start the dev server and to create the worker. */
  startupMs: { server: number; worker: number };
  stop(): Promise<void>;
}

/** Starts everything; on any failure stops what already started and throws (BenchSetupError when fixable). */
export async function startRunEnv(ctx: BenchContext): Promise<RunEnv> {
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    ctx.log(`run: ${signal} received, stopping the dev server, worker and simulated LLM...`);
    void stop().finally(() => process.exit(130));
  };
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const s of stops.reverse()) {
        await s().catch((err: unknown) => ctx.log(`run: warning while stopping: ${(err as Error).message}`));
      }
    })());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    installRuntime();
    const cli = await findCli(ctx);
    ctx.log(`run: starting an in-memory Temporal dev server (${cli.path})`);
    const t0 = performance.now();
    const server = await startDevServer({
      cliPath: cli.path,
      port: 0,
      uiPort: false,
      namespace: NAMESPACE,
      searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
    }).catch((err: unknown) => {
      throw new BenchSetupError(`The run benchmark could not start the Temporal dev server: ${(err as Error).message}`);
    });
    stops.push(() => server.stop());
    const serverMs = performance.now() - t0;

    const sim = await startSimLlm({ port: 0, latencyMs: 0 });
    stops.push(() => sim.close());
    const artifactDir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-artifacts-'));
    stops.push(() => Promise.resolve(rmSync(artifactDir, { recursive: true, force: true })));

    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    stops.push(() => nativeConnection.close());

    const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
    const prebuilt = path.join(ctx.repoRoot, 'dist', 'workflow-bundle.js');
    const bundle = existsSync(prebuilt) ? 'prebuilt' : 'source';
    ctx.log(`run: creating the worker (${bundle === 'prebuilt' ? prebuilt : 'bundling workflows from source'})`);
    const t1 = performance.now();
    const worker = await createMaestroWorker({
      connection: nativeConnection,
      namespace: NAMESPACE,
      taskQueue,
      ...(bundle === 'prebuilt' ? { workflowBundlePath: prebuilt } : {}),
      deps: benchDeps(sim.baseUrl, artifactDir),
    });
    const workerMs = performance.now() - t1;
    const running = worker.run();
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const client = new Client({ connection, namespace: NAMESPACE });
    return {
      client,
      maestro: new MaestroClient(client, taskQueue),
      server,
      sim,
      worker,
      taskQueue,
      bundle,
      cliSource: cli.source,
      startupMs: { server: serverMs, worker: workerMs },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Activity dependencies of a bench worker: the simulated LLM at `baseUrl`, files under `artifactDir`. */
export function benchDeps(baseUrl: string, artifactDir: string): ActivityDeps {
  return {
    llm: new StructuredLlm({ baseUrl, apiKey: 'bench', timeoutMs: 30_000 }),
    // Roles with tools (the cache section's agent run) call through this one.
    agentLlm: new ToolLlm({ baseUrl, apiKey: 'bench', timeoutMs: 30_000 }),
    store: new FsArtifactStore(artifactDir),
    roles: DEFAULT_ROLES,
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    bossModel: SIM_MODEL,
    workerModel: () => SIM_MODEL,
    reviewExcerptChars: REVIEW_EXCERPT_CHARS,
  };
}

/** The Temporal CLI, or a BenchSetupError that says how to get it or skip the section. */
export async function findCli(ctx: BenchContext) {
  try {
    return await resolveTemporalCli({ maestroHome: path.join(ctx.repoRoot, '.maestro'), log: ctx.log });
  } catch (err) {
    if (err instanceof TemporalCliNotFoundError) {
      throw new BenchSetupError(
        `The run benchmark needs the Temporal CLI to start an in-memory dev server, and none was found. ${err.message} ` +
          '(The benchmark always starts its own in-memory server, so TEMPORAL_ADDRESS does not apply here.) ' +
          'Or skip this section: npm run bench -- --only plan-graph,sim-llm',
      );
    }
    throw err;
  }
}

let runtimeInstalled = false;

/** The SDK runtime (with a quiet logger) can be installed once per process, before the first connection. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/**
 * A dev server on a SQLite file in `dir`, started as `maestro dev` starts it (the floor and rss
 * sections measure against the server users run); a failure names the section that needed it.
 */
export async function startBenchDevServer(opts: { cliPath: string; dir: string; section: string }): Promise<DevServer> {
  return startDevServer({
    cliPath: opts.cliPath,
    port: 0,
    uiPort: false,
    dbFile: path.join(opts.dir, 'temporal.db'),
    searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
  }).catch((err: unknown) => {
    throw new BenchSetupError(`the ${opts.section} section could not start the dev server: ${(err as Error).message}`);
  });
}
