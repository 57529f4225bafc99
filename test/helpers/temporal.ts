/**
 * Test access to the suite's Temporal dev server (started once by global-setup) and workers
 * that load the suite's pre-built workflow bundle.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../src/activities';
import { MaestroClient, type StartRunOptions } from '../../src/client/api';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { ToolLlm } from '../../src/activities/llm/tool-turn';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES, roleInfoOf } from '../../src/shared/roles';
import { startSimLlm, type SimLlm, type SimLlmOptions } from '../../src/dev/sim-llm';
import { createMaestroWorker } from '../../src/workers/create-worker';
import { REVIEW_EXCERPT_CHARS } from '../../src/shared/constants';

let runtimeInstalled = false;

/** Address of the suite's server. */
export function testAddress(): string {
  const address = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error(
      'MAESTRO_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (global setup starts the server)',
    );
  return address;
}

/** A unique task queue per test, so tests never pick up each other's work. */
export function uniqueQueue(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}`;
}

/** Connections to the suite's server; close them in afterAll. */
export async function connectTest(): Promise<{
  client: Client;
  nativeConnection: NativeConnection;
  close: () => Promise<void>;
}> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const connection = await Connection.connect({ address: testAddress() });
  const nativeConnection = await NativeConnection.connect({ address: testAddress() });
  return {
    client: new Client({ connection }),
    nativeConnection,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Activity dependencies talking to an LLM endpoint, with a fresh artifact folder. */
export function testDeps(
  baseUrl: string,
  overrides: Partial<ActivityDeps> = {},
): ActivityDeps & { artifactDir: string } {
  const artifactDir = mkdtempSync(path.join(os.tmpdir(), 'maestro-artifacts-'));
  return {
    llm: new StructuredLlm({ baseUrl, apiKey: 'test-key', timeoutMs: 30_000 }),
    agentLlm: new ToolLlm({ baseUrl, apiKey: 'test-key', timeoutMs: 30_000 }),
    sandboxHide: [artifactDir],
    store: new FsArtifactStore(artifactDir),
    roles: DEFAULT_ROLES,
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    bossModel: 'maestro-sim',
    workerModel: () => 'maestro-sim',
    reviewExcerptChars: REVIEW_EXCERPT_CHARS,
    artifactDir,
    ...overrides,
  };
}

/** A worker on the suite's server using the pre-built bundle. */
export function testWorker(nativeConnection: NativeConnection, taskQueue: string, deps: ActivityDeps): Promise<Worker> {
  return createMaestroWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    deps,
    workflowBundlePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE,
  });
}

/** The connections `connectTest` returns. */
export type TestConnection = Awaited<ReturnType<typeof connectTest>>;

/** The default roles as a run is given them. */
export const TEST_ROLES = DEFAULT_ROLES.map(roleInfoOf);

/** A simulated LLM and the suite's Temporal server, for one test file. */
export interface SimAndTemporal {
  sim: SimLlm;
  conn: TestConnection;
  /** Runs `fn` before the connections close (e.g. shutting down a worker that holds one). */
  beforeClose(fn: () => Promise<void>): void;
}

/**
 * Starts a simulated LLM and connects to the suite's server before the file's tests, and closes
 * both after them. The fields are set once `beforeAll` has run.
 */
export function useSimAndTemporal(simOptions: SimLlmOptions = { port: 0 }): SimAndTemporal {
  const cleanups: (() => Promise<void>)[] = [];
  const env = { beforeClose: (fn) => void cleanups.push(fn) } as SimAndTemporal;
  beforeAll(async () => {
    env.sim = await startSimLlm(simOptions);
    env.conn = await connectTest();
  });
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn();
    await env.conn?.close();
    await env.sim?.close();
  });
  return env;
}

/** A run client on an in-process worker of the test file's own task queue. */
export interface SimRunner {
  api: MaestroClient;
  /** Starts a run with a unique id (`<prefix>-<time>-<n>`). */
  start: (goal: string, opts: StartRunOptions) => Promise<string>;
}

/**
 * An in-process worker (real activities, the harness's simulated LLM) on a fresh task queue for
 * the file's tests, shut down before the harness closes its connections.
 */
export function useSimWorker(harness: SimAndTemporal, prefix: string): SimRunner {
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let counter = 0;
  const runner = {
    start: (goal: string, opts: StartRunOptions) =>
      runner.api.start(goal, { runId: `${prefix}-${Date.now()}-${++counter}`, ...opts }),
  } as SimRunner;
  beforeAll(async () => {
    const taskQueue = uniqueQueue(prefix);
    worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    running = worker.run();
    runner.api = new MaestroClient(harness.conn.client, taskQueue);
  });
  harness.beforeClose(async () => {
    worker?.shutdown();
    await running;
  });
  return runner;
}
