/**
 * The one path every LLM call takes to telemetry, whoever makes it (the Boss's structured calls,
 * agent turns, a coding-agent CLI's calls through the LLM gateway): a `chat` span (when tracing is
 * on) and Maestro's metrics. And the activity interceptors that give every activity its spans.
 */
import { context } from '@opentelemetry/api';
import { OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { Context as ActivityContext } from '@temporalio/activity';
import type { LlmCallRecord } from '../shared/types';
import { llmMetricMeter, recordLlmCallMetrics } from './metrics';
import { exportChatSpan, GenAiSpansInterceptor } from './run-spans';
import { currentTracing } from './tracing';

/** Records one finished LLM call (span and metrics); never throws. Calling it twice for a record records it once. */
export type LlmCallObserver = (call: LlmCallRecord) => void;

function currentActivity(): ActivityContext | undefined {
  try {
    return ActivityContext.current();
  } catch {
    return undefined;
  }
}

/**
 * The observer of the current activity's LLM calls. What it needs (the activity's span as the
 * parent, its metric labels, its workflow id) is taken now, inside the activity: records may
 * arrive later from elsewhere, like the LLM gateway's HTTP handler serving a CLI's call.
 */
export function llmCallObserver(): LlmCallObserver {
  const activity = currentActivity();
  const conversationId = activity?.info.workflowExecution?.workflowId;
  const parent = context.active();
  const meter = llmMetricMeter();
  const seen = new WeakSet<LlmCallRecord>();
  return (call) => {
    if (seen.has(call)) return;
    seen.add(call);
    try {
      context.with(parent, () => exportChatSpan(call, conversationId));
      if (meter) recordLlmCallMetrics(call, meter);
    } catch {
      // telemetry must never fail a run
    }
  };
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
