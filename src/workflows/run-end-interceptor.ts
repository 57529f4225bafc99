/**
 * Tells the worker how each run ended (completed, partial, stopped, rejected, failed or
 * cancelled), so the run's root span is exported for every ending (src/telemetry/workflow-sinks.ts), not
 * only when a report is written. A workflow interceptor (bundled with the workflows, see
 * workflow-bundle-options.ts) around the top-level run workflow; it reports through a sink, which
 * adds nothing to the workflow's history and is not called during replay.
 */
import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  workflowInfo,
  type Next,
  type Sinks,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';

/** How a run ended, as the sink gets it. */
export interface RunEnd {
  /** The result's status, or `failed` / `cancelled` when the run threw. */
  outcome: string;
  /** The failure's message (failed runs). */
  error?: string;
  /** What the run cost, when it returned a result. */
  usd?: number;
}

/** The sink the worker registers (src/telemetry/workflow-sinks.ts). */
export interface RunEndSinks extends Sinks {
  maestroRunEnd: { ended(end: RunEnd): void };
}

const { maestroRunEnd } = proxySinks<RunEndSinks>();

/** The run workflow started by a client; sub-runs and ticket workflows have ids under their run's. */
function isTopLevelRun(): boolean {
  const info = workflowInfo();
  return info.workflowType === 'orchestratorWorkflow' && !info.workflowId.includes('/');
}

/**
 * Why the run failed, for the root span's status: the innermost cause's message (an activity's own
 * error, not Temporal's wrapping "Activity task failed").
 */
function reasonOf(err: unknown): string {
  let e = err;
  for (let depth = 0; depth < 10 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

class RunEndInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (!isTopLevelRun()) return next(input);
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      // Continuing as new is no ending: the next execution tells it.
      if (!(err instanceof ContinueAsNew)) {
        const cancelled = isCancellation(err);
        maestroRunEnd.ended({
          outcome: cancelled ? 'cancelled' : 'failed',
          ...(cancelled ? {} : { error: reasonOf(err) }),
        });
      }
      throw err;
    }
    const r = (typeof result === 'object' && result !== null ? result : {}) as {
      status?: unknown;
      cost?: { usd?: unknown };
    };
    maestroRunEnd.ended({
      outcome: typeof r.status === 'string' ? r.status : 'completed',
      ...(typeof r.cost?.usd === 'number' ? { usd: r.cost.usd } : {}),
    });
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new RunEndInterceptor()] });
