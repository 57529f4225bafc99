/**
 * Maestro's LLM metrics, recorded through the Temporal runtime's metric meter so they appear on
 * the same Prometheus endpoint as the SDK's worker metrics (`maestro worker --metrics :9464`):
 * tokens and cost by role and model, call duration (the count is the number of calls) and errors
 * by type. Names follow Prometheus (base units in the name: `_seconds`, `_usd`; counters get
 * `_total`), labels are snake_case, and the GenAI attributes of OpenTelemetry's conventions
 * (`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`, `error.type`) become
 * labels the way an OTLP-to-Prometheus translation spells them. The histograms' buckets are set
 * for the runtime in `METRIC_BUCKETS` (the SDK's defaults are for milliseconds).
 */
import { Context as ActivityContext } from '@temporalio/activity';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { GATE_WAIT_BUCKETS, GATE_WAIT_METRIC } from '../shared/constants';
import type { LlmCallRecord } from '../shared/types';
import { llmProviderName } from './llm-provider';

/** Metric names (Prometheus adds `_total` to counters and `_sum`/`_count`/`_bucket` to histograms). */
export const METRICS = {
  inputTokens: 'maestro_llm_input_tokens',
  outputTokens: 'maestro_llm_output_tokens',
  cachedTokens: 'maestro_llm_cached_input_tokens',
  cost: 'maestro_llm_cost_usd',
  /** Like GenAI's `gen_ai.client.operation.duration`: seconds per call, failed calls included. */
  duration: 'maestro_llm_operation_duration_seconds',
  errors: 'maestro_llm_errors',
} as const;

/** Cost of one call: from a thousandth of a cent (a small cached prompt) to 10 dollars. */
export const LLM_COST_BUCKETS_USD = [0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];

/**
 * Seconds per call: GenAI's advised boundaries (10 ms doubling to 82 s), extended to 11 minutes
 * for slow local models that stream for minutes.
 */
export const LLM_DURATION_BUCKETS_SECONDS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 163.84, 327.68, 655.36,
];

/** Bucket boundaries of Maestro's histograms, for the runtime's `histogramBucketOverrides`. */
export const METRIC_BUCKETS: Record<string, number[]> = {
  [METRICS.cost]: LLM_COST_BUCKETS_USD,
  [METRICS.duration]: LLM_DURATION_BUCKETS_SECONDS,
  [GATE_WAIT_METRIC]: GATE_WAIT_BUCKETS,
};

/**
 * The meter for the LLM calls of the current activity: the runtime's, with the activity's
 * namespace, task queue and type as snake_case labels (the activity context's own meter adds
 * them in camelCase). Undefined outside an activity (unit tests, `maestro doctor`).
 */
export function llmMetricMeter(): MetricMeter | undefined {
  let info: ActivityContext['info'];
  try {
    info = ActivityContext.current().info;
  } catch {
    return undefined;
  }
  return Runtime.instance().metricMeter.withTags({
    namespace: info.namespace,
    task_queue: info.taskQueue,
    activity_type: info.activityType,
  });
}

/**
 * Distinct model labels one process reports; later new names are labelled `other`. The name is
 * the one the provider reports, and every distinct label value is a series the worker keeps for
 * its life: a server answering each call with a new name must not grow it without end.
 */
export const MAX_MODEL_LABELS = 100;
/** Characters of a model label (real model names are far shorter). */
const MAX_MODEL_LABEL_CHARS = 128;
const modelLabels = new Set<string>();

/** The provider-reported model name as a label: printable, cut, and one of a bounded set. */
function modelLabel(model: unknown): string {
  const text = (typeof model === 'string' ? model : String(model))
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
    .slice(0, MAX_MODEL_LABEL_CHARS);
  if (modelLabels.has(text)) return text;
  if (modelLabels.size >= MAX_MODEL_LABELS) return 'other';
  modelLabels.add(text);
  return text;
}

/** Records one LLM call (success or failure) in Maestro's metrics. */
export function recordLlmCallMetrics(call: LlmCallRecord, meter: MetricMeter): void {
  const tags: MetricTags = {
    role: call.role,
    kind: call.kind,
    gen_ai_operation_name: 'chat',
    gen_ai_provider_name: llmProviderName(),
    gen_ai_request_model: modelLabel(call.model),
  };
  const failed = call.error ? { ...tags, error_type: call.error } : tags;
  meter.createCounter(METRICS.inputTokens, '{token}', 'Prompt tokens sent to models').add(call.promptTokens, tags);
  meter.createCounter(METRICS.outputTokens, '{token}', 'Completion tokens received').add(call.completionTokens, tags);
  meter
    .createCounter(METRICS.cachedTokens, '{token}', 'Prompt tokens served from the provider cache')
    .add(call.cachedTokens, tags);
  meter
    .createHistogram(METRICS.cost, 'float', 'USD', 'Cost of each LLM call in US dollars (sum: total cost)')
    .record(call.usd, tags);
  meter
    .createHistogram(METRICS.duration, 'float', 's', 'Duration of each LLM call in seconds (count: calls)')
    .record(call.latencyMs / 1000, failed);
  if (call.error) meter.createCounter(METRICS.errors, '{call}', 'Failed LLM calls by error type').add(1, failed);
}
