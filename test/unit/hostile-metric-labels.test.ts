/**
 * A hostile LLM server against Maestro's metrics (metrics.ts): the `gen_ai_request_model` label is
 * the model name the provider reports, so a server that answers every call with a new, huge name
 * full of control bytes would add a Prometheus series per call (kept by the worker for its life)
 * and put raw ESC bytes into the scrape. The label is cut, made printable, and the number of
 * distinct values one process reports is bounded.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { LlmCallRecord } from '../../src/shared/types';
import { MAX_MODEL_LABELS, recordLlmCallMetrics } from '../../src/telemetry/metrics';

const tags: MetricTags[] = [];
const meter = {
  createCounter: () => ({ add: (_v: number, t: MetricTags) => tags.push(t) }),
  createHistogram: () => ({ record: (_v: number, t: MetricTags) => tags.push(t) }),
} as unknown as MetricMeter;

const call = (model: string): LlmCallRecord => ({
  kind: 'work',
  role: 'coder',
  model,
  promptTokens: 1,
  cachedTokens: 0,
  completionTokens: 1,
  usd: 0,
  latencyMs: 1,
  attempt: 1,
  startedAt: '2026-12-07T12:00:00.000Z',
  repaired: false,
});

it('1,000 calls answered by 1,000 different huge, escape-laden model names stay a bounded set of printable labels', () => {
  recordLlmCallMetrics(call('gpt-4o-mini'), meter);
  for (let i = 0; i < 1000; i++)
    recordLlmCallMetrics(call(`\u001b]0;x\u0007${i}\u001b[2J${'M'.repeat(100_000)}`), meter);
  const models = new Set(tags.map((t) => t.gen_ai_request_model as string));
  expect(models.size).toBeLessThanOrEqual(MAX_MODEL_LABELS + 1);
  for (const m of models) {
    expect(m.length).toBeLessThanOrEqual(128);
    expect(m).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  }
  // A real model name is still its own label.
  expect(models.has('gpt-4o-mini')).toBe(true);
});
