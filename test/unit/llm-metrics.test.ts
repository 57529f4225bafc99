/**
 * What one LLM call record becomes in Maestro's metrics (src/telemetry/metrics.ts): seconds, not
 * milliseconds; snake_case labels with the GenAI attributes; `error_type` only on failed calls;
 * and bucket overrides for every histogram Maestro records.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { GATE_WAIT_METRIC } from '../../src/shared/constants';
import type { LlmCallRecord } from '../../src/shared/types';
import { setLlmProvider } from '../../src/telemetry/llm-provider';
import { METRIC_BUCKETS, METRICS, recordLlmCallMetrics } from '../../src/telemetry/metrics';

type Recorded = { name: string; unit: string; value: number; tags: MetricTags };

/** A meter that remembers what was recorded. */
function memoryMeter(out: Recorded[]): MetricMeter {
  const instrument = (name: string, unit: string) => {
    const take = (value: number, tags: MetricTags = {}) => out.push({ name, unit, value, tags });
    return { name, unit, description: '', kind: 'counter', valueType: 'int', add: take, record: take, set: take };
  };
  return {
    createCounter: (name: string, unit = '') => instrument(name, unit),
    createHistogram: (name: string, _type: unknown, unit = '') => instrument(name, unit),
    createGauge: (name: string, _type: unknown, unit = '') => instrument(name, unit),
    withTags: function () {
      return this;
    },
  } as unknown as MetricMeter;
}

const call: LlmCallRecord = {
  kind: 'work',
  role: 'coder',
  model: 'gpt-x',
  promptTokens: 120,
  cachedTokens: 20,
  completionTokens: 30,
  usd: 0.0012,
  latencyMs: 2500,
  attempt: 1,
  startedAt: '2026-12-07T12:00:00.000Z',
  repaired: false,
};

afterEach(() => setLlmProvider('openai'));

it('records seconds, tokens and cost with snake_case GenAI labels', () => {
  const out: Recorded[] = [];
  recordLlmCallMetrics(call, memoryMeter(out));
  const duration = out.find((r) => r.name === METRICS.duration)!;
  expect(duration).toMatchObject({ unit: 's', value: 2.5 });
  expect(duration.tags).toEqual({
    role: 'coder',
    kind: 'work',
    gen_ai_operation_name: 'chat',
    gen_ai_provider_name: 'openai',
    gen_ai_request_model: 'gpt-x',
  });
  expect(out.find((r) => r.name === METRICS.inputTokens)?.value).toBe(120);
  expect(out.find((r) => r.name === METRICS.cost)?.value).toBe(0.0012);
  expect(out.some((r) => r.name === METRICS.errors)).toBe(false);
  for (const r of out) for (const label of Object.keys(r.tags)) expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
});

it('labels a failed call with error_type and counts it, and names Azure as GenAI does', () => {
  setLlmProvider('azure');
  const out: Recorded[] = [];
  recordLlmCallMetrics(
    { ...call, error: 'MaestroLlmRateLimited', promptTokens: 0, completionTokens: 0 },
    memoryMeter(out),
  );
  expect(out.find((r) => r.name === METRICS.errors)).toMatchObject({
    value: 1,
    tags: { error_type: 'MaestroLlmRateLimited', gen_ai_provider_name: 'azure.ai.openai' },
  });
  expect(out.find((r) => r.name === METRICS.duration)?.tags.error_type).toBe('MaestroLlmRateLimited');
  // Token and cost series keep one label set per call kind (no error_type there).
  expect(out.find((r) => r.name === METRICS.inputTokens)?.tags.error_type).toBeUndefined();
});

it('has bucket overrides for every histogram, in ascending order', () => {
  expect(Object.keys(METRIC_BUCKETS).sort()).toEqual([METRICS.cost, METRICS.duration, GATE_WAIT_METRIC].sort());
  for (const bounds of Object.values(METRIC_BUCKETS)) expect([...bounds].sort((a, b) => a - b)).toEqual(bounds);
  expect(METRIC_BUCKETS[METRICS.cost]![0]).toBe(0.00001);
  expect(METRIC_BUCKETS[METRICS.cost]!.at(-1)).toBe(10);
});
