/**
 * The options every bundle of Maestro's workflow code is built with (the pre-built bundle of
 * `npm run build`, a worker bundling from source, the tests' bundle), so they all run the same
 * code the same way.
 */
import type { BundleOptions } from '@temporalio/worker';

/**
 * Modules loaded once per workflow thread and shared by all workflows (see
 * src/workflows/zod-preload.ts): without it, every ticket child evaluates zod again when it starts.
 */
export function workflowBundlerOptions(): Pick<BundleOptions, 'preloadModules' | 'workflowInterceptorModules'> {
  return {
    preloadModules: [require.resolve('../workflows/zod-preload')],
    workflowInterceptorModules: WORKFLOW_INTERCEPTORS(),
  };
}

/**
 * Workflow interceptor modules of every bundle: the run-end interceptor tells the worker how each
 * run ended (its trace's root span, src/telemetry/workflow-sinks.ts).
 */
export const WORKFLOW_INTERCEPTORS = (): string[] => [require.resolve('../workflows/run-end-interceptor')];

/** The twin of a bundle built with the encoded-failure converter (for workers with encryption keys). */
export function encodedFailuresBundlePath(bundlePath: string): string {
  return bundlePath.replace(/(\.js)?$/, '-encoded-failures.js');
}
