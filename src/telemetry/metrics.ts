/**
 * Maestro's own metrics, recorded through the Temporal runtime's metric meter so they appear on
 * the same Prometheus endpoint as the SDK's worker metrics (`maestro worker --metrics :9464`):
 * LLM tokens and cost by role and model, LLM latency, and LLM errors by class.
 */
import { Context as ActivityContext } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { LlmCallRecord } from '../shared/types';

/** Metric names (Prometheus adds `_sum`/`_count`/`_bucket` to histograms). */
export const METRICS = {
  inputTokens: 'maestro_llm_input_tokens',
  outputTokens: 'maestro_llm_output_tokens',
  cachedTokens: 'maestro_llm_cached_input_tokens',
  cost: 'maestro_llm_cost_usd',
  latency: 'maestro_llm_latency_ms',
  errors: 'maestro_llm_errors',
} as const;

function activityMeter(): MetricMeter | undefined {
  try {
    return ActivityContext.current().metricMeter;
  } catch {
    return undefined; // outside an activity (unit tests)
  }
}

/** Records one LLM call (success or failure) in Maestro's metrics. */
export function recordLlmCallMetrics(call: LlmCallRecord, meter: MetricMeter | undefined = activityMeter()): void {
  if (!meter) return;
  const tags = { role: call.role, model: call.model, kind: call.kind };
  meter.createCounter(METRICS.inputTokens, 'tokens', 'Prompt tokens sent to models').add(call.promptTokens, tags);
  meter.createCounter(METRICS.outputTokens, 'tokens', 'Completion tokens received').add(call.completionTokens, tags);
  meter.createCounter(METRICS.cachedTokens, 'tokens', 'Prompt tokens served from cache').add(call.cachedTokens, tags);
  meter.createHistogram(METRICS.cost, 'float', 'usd', 'Cost of each LLM call (sum: total cost)').record(call.usd, tags);
  meter.createHistogram(METRICS.latency, 'int', 'ms', 'LLM call latency').record(Math.round(call.latencyMs), tags);
  if (call.error)
    meter.createCounter(METRICS.errors, 'calls', 'Failed LLM calls by class').add(1, { ...tags, class: call.error });
}
