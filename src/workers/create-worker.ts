/**
 * Creates Maestro workers: the main one (workflows plus every activity, on one task queue) and
 * activity-only role workers (the work activity of some roles, on their own queue). Used by
 * `maestro worker`, by the in-process worker of `maestro run`/`maestro dev`, and by tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { ENCODED_FAILURES_MARKER } from '../codec/encoded-failure-converter';
import { createAgentActivities } from '../activities/agent/agent-activities';
import { createWorkerActivities } from '../activities/roles/worker';
import { tracingWorkerOptions } from '../telemetry/observe';
import { workflowSinks } from '../telemetry/workflow-sinks';
import { encodedFailuresBundlePath, workflowBundlerOptions, WORKFLOW_INTERCEPTORS } from './workflow-bundle-options';
import { semiSpaceSizeSet, WORKER_SEMI_SPACE_MB } from './worker-launch';

/** Where `npm run build` writes the pre-bundled workflow code (next to the compiled sources). */
export const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');

/**
 * Options every Maestro worker shares. Heartbeats reach the server at least every 2 s (the SDK
 * would otherwise wait up to 80% of the heartbeat timeout), so cancelling a run aborts its
 * in-flight LLM requests within seconds.
 */
export const WORKER_DEFAULTS: Partial<WorkerOptions> = {
  shutdownGraceTime: '5 seconds',
  maxHeartbeatThrottleInterval: '2 seconds',
};

/** Options of `createMaestroWorker`. */
export interface MaestroWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Payload codecs (encryption); from `maestroDataConverter(config)`. */
  dataConverter?: DataConverter;
  /** Path of a pre-built workflow bundle; defaults to the build's, else bundles from source. */
  workflowBundlePath?: string;
  /** Extra worker options (tests use them to tune concurrency or shutdown). */
  overrides?: Partial<WorkerOptions>;
}

/**
 * Workflow code source: a pre-built bundle when there is one (fast start), else the sources. With
 * a custom failure converter (encryption), the bundle must contain that converter too, since
 * workflows convert their own failures: the build's encoded-failures twin, or the sources bundled
 * with it; a given bundle without it is refused rather than storing failures in plain text.
 */
export function workflowSource(
  bundlePath?: string,
  failureConverterPath?: string,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'bundlerOptions' | 'interceptors'> {
  const prebuilt = failureConverterPath ? encodedFailuresBundlePath(PREBUILT_BUNDLE) : PREBUILT_BUNDLE;
  const codePath = bundlePath ?? (fs.existsSync(prebuilt) ? prebuilt : undefined);
  if (codePath && failureConverterPath && !fs.readFileSync(codePath, 'utf8').includes(ENCODED_FAILURES_MARKER)) {
    throw new Error(
      `The workflow bundle ${codePath} was built without Maestro's encoded-failure converter, so with encryption keys set its workflows would store failure messages in plain text. ` +
        'Rebuild with `npm run build` (it writes the *-encoded-failures.js twin), or bundle with failureConverterPath set to ENCODED_FAILURE_CONVERTER_PATH.',
    );
  }
  return codePath
    ? { workflowBundle: { codePath } }
    : {
        workflowsPath: require.resolve('../workflows'),
        bundlerOptions: { preloadModules: workflowBundlerOptions().preloadModules },
        // A bundle made here takes its workflow interceptors from this option (a pre-built one has them).
        interceptors: { workflowModules: WORKFLOW_INTERCEPTORS() },
      };
}

/**
 * Caps the young generation of V8 isolates created from now on in this process, which includes
 * the workflow thread `Worker.create` starts (the SDK gives it no resource limits of its own):
 * with 100 workflows in flight its semi-spaces otherwise grow to Node's 16 MB each. V8 reads the
 * flag when an isolate is created, so the main thread's own isolate keeps its size (the
 * `maestro worker` launcher sets that one at start). V8 flags the user set win.
 */
export function capWorkflowThreadYoungGeneration(): void {
  if (semiSpaceSizeSet({ execArgv: process.execArgv, env: process.env })) return;
  v8.setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
}

/** Creates (does not run) a worker for Maestro's workflows and activities. */
export async function createMaestroWorker(opts: MaestroWorkerOptions): Promise<Worker> {
  capWorkflowThreadYoungGeneration();
  const source = workflowSource(opts.workflowBundlePath, opts.dataConverter?.failureConverterPath);
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: createActivities(opts.deps),
    ...source,
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    interceptors: { ...source.interceptors, ...tracingWorkerOptions().interceptors },
    sinks: workflowSinks(),
    ...WORKER_DEFAULTS,
    ...opts.overrides,
  });
}

/**
 * Creates (does not run) an activity-only worker for a role queue: no workflows, no Boss, just
 * `performTicket` and the agent-loop activities for the roles in `deps.roles`.
 */
export async function createRoleWorker(opts: Omit<MaestroWorkerOptions, 'workflowBundlePath'>): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: { ...createWorkerActivities(opts.deps), ...createAgentActivities(opts.deps) },
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...tracingWorkerOptions(),
    ...WORKER_DEFAULTS,
    ...opts.overrides,
  });
}
