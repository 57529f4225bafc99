/**
 * Client-side tracing: the Temporal SDK's client interceptor (`@temporalio/interceptors-opentelemetry`)
 * makes a span for each call that changes a run (`StartWorkflow:orchestratorWorkflow`,
 * `StartWorkflowUpdate:<update>`, `SignalWorkflow:<signal>`, `TerminateWorkflow`,
 * `CancelWorkflow`), and Maestro parents each one at the run's span (run-spans.ts: ids derived
 * from the run id), so `maestro run`/`start`/`approve` and `MaestroClient` calls land in the same
 * trace as the run's plan, agent, tool and chat spans, whichever process or machine makes them.
 * Queries and describes are not traced: `maestro watch` polls several times a second.
 */
import { context, trace } from '@opentelemetry/api';
import type {
  Next,
  WorkflowCancelInput,
  WorkflowClientInterceptor,
  WorkflowSignalInput,
  WorkflowStartInput,
  WorkflowStartUpdateInput,
  WorkflowTerminateInput,
} from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { runSpanContext } from './run-spans';

/** Runs `fn` with the run's span (of the run that owns `workflowId`) as the active parent. */
function inRunTrace<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  const runId = workflowId.split('/')[0]!;
  return context.with(trace.setSpanContext(context.active(), runSpanContext(runId)), fn);
}

/**
 * The SDK's client interceptor for the calls that change a run, each under the run's span.
 * Exported for programs that build their own Temporal `Client` for a `MaestroClient`
 * (`new Client({ interceptors: { workflow: [new RunTraceClientInterceptor()] } })`).
 */
export class RunTraceClientInterceptor implements WorkflowClientInterceptor {
  private readonly otel = new OpenTelemetryWorkflowClientInterceptor();

  /** `StartWorkflow:<type>`. */
  start(input: WorkflowStartInput, next: Next<WorkflowClientInterceptor, 'start'>): Promise<string> {
    return inRunTrace(input.options.workflowId, () => this.otel.start(input, next));
  }

  /** `StartWorkflow:<type>` (the SDK's start path that returns details). */
  startWithDetails(
    input: WorkflowStartInput,
    next: Next<WorkflowClientInterceptor, 'startWithDetails'>,
  ): ReturnType<NonNullable<WorkflowClientInterceptor['startWithDetails']>> {
    return inRunTrace(input.options.workflowId, () => this.otel.startWithDetails(input, next));
  }

  /** `SignalWorkflow:<signal>` (approve/reject signals, budget raises, tool approvals). */
  signal(input: WorkflowSignalInput, next: Next<WorkflowClientInterceptor, 'signal'>): Promise<void> {
    return inRunTrace(input.workflowExecution.workflowId, () => this.otel.signal(input, next));
  }

  /** `StartWorkflowUpdate:<update>` (gate decisions). */
  startUpdate(
    input: WorkflowStartUpdateInput,
    next: Next<WorkflowClientInterceptor, 'startUpdate'>,
  ): ReturnType<NonNullable<WorkflowClientInterceptor['startUpdate']>> {
    return inRunTrace(input.workflowExecution.workflowId, () => this.otel.startUpdate(input, next));
  }

  /** `TerminateWorkflow`. */
  terminate(
    input: WorkflowTerminateInput,
    next: Next<WorkflowClientInterceptor, 'terminate'>,
  ): ReturnType<NonNullable<WorkflowClientInterceptor['terminate']>> {
    return inRunTrace(input.workflowExecution.workflowId, () => this.otel.terminate(input, next));
  }

  /** `CancelWorkflow`. */
  cancel(
    input: WorkflowCancelInput,
    next: Next<WorkflowClientInterceptor, 'cancel'>,
  ): ReturnType<NonNullable<WorkflowClientInterceptor['cancel']>> {
    return inRunTrace(input.workflowExecution.workflowId, () => this.otel.cancel(input, next));
  }
}
