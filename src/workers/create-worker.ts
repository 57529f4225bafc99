/**
 * Creates a Maestro worker: the workflows plus every activity, on one task queue. Used by
 * `maestro worker`, by the in-process worker of `maestro run`/`maestro dev`, and by tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

/** Where `npm run build` writes the pre-bundled workflow code (next to the compiled sources). */
export const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');

/** Options of `createMaestroWorker`. */
export interface MaestroWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Path of a pre-built workflow bundle; defaults to the build's, else bundles from source. */
  workflowBundlePath?: string;
  /** Extra worker options (tests use them to tune concurrency or shutdown). */
  overrides?: Partial<WorkerOptions>;
}

/** Workflow code source: a pre-built bundle when there is one (fast start), else the sources. */
export function workflowSource(bundlePath?: string): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const codePath = bundlePath ?? (fs.existsSync(PREBUILT_BUNDLE) ? PREBUILT_BUNDLE : undefined);
  return codePath ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('../workflows') };
}

/** Creates (does not run) a worker for Maestro's workflows and activities. */
export async function createMaestroWorker(opts: MaestroWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createActivities(opts.deps),
    ...workflowSource(opts.workflowBundlePath),
    shutdownGraceTime: '5 seconds',
    ...opts.overrides,
  });
}
