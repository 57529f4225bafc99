/** A worker on a fresh task queue for one test file, and the client API that starts runs on it. */
import type { Worker } from '@temporalio/worker';
import { MaestroClient } from '../../src/client/api';
import { testDeps, testWorker, uniqueQueue, type SimAndTemporal } from './temporal';

/** What `useRunWorker` provides once `beforeAll` has run. */
export interface RunWorker {
  api: MaestroClient;
  taskQueue: string;
}

/**
 * Starts a worker with the real activities against the file's simulated LLM before the tests,
 * and stops it before the connections close.
 */
export function useRunWorker(harness: SimAndTemporal, name: string): RunWorker {
  const env = {} as RunWorker;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    env.taskQueue = uniqueQueue(name);
    worker = await testWorker(harness.conn.nativeConnection, env.taskQueue, testDeps(harness.sim.baseUrl));
    running = worker.run();
    env.api = new MaestroClient(harness.conn.client, env.taskQueue);
  });
  harness.beforeClose(async () => {
    worker?.shutdown();
    await running;
  });
  return env;
}
