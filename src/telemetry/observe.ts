/**
 * What the worker does with each LLM call record besides booking it: a `chat` span (when tracing
 * is on) and Maestro's metrics; and the activity interceptors that give every activity its spans.
 */
import { OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import type { LlmCallRecord } from '../shared/types';
import { recordLlmCallMetrics } from './metrics';
import { exportChatSpan, GenAiSpansInterceptor } from './run-spans';
import { currentTracing } from './tracing';

/** Records one finished LLM call (span and metrics); never throws into the activity. */
export function observeLlmCall(call: LlmCallRecord, conversationId: string | undefined): void {
  try {
    exportChatSpan(call, conversationId);
    recordLlmCallMetrics(call);
  } catch {
    // telemetry must never fail a run
  }
}

/**
 * Worker options for tracing: Maestro's GenAI span around each activity (outer) and the SDK's
 * `RunActivity:<type>` span inside it. Empty when tracing is off.
 */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors'> {
  if (!currentTracing()) return {};
  return {
    interceptors: {
      activity: [
        (ctx) => ({ inbound: new GenAiSpansInterceptor(ctx) }),
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) }),
      ],
    },
  };
}
