/**
 * `maestro status` and `maestro result` show how many prompt tokens the provider served from its
 * cache (billed at the cached price), overall and per role; runs without cached tokens read as before.
 */
import { resultText, statusText } from '../../src/client/format';
import type { RunResult } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import { status } from '../helpers/status-fixtures';

const boss = {
  ...emptyUsage(),
  promptTokens: 30_000,
  cachedTokens: 12_288,
  completionTokens: 5_000,
  usd: 0.02,
  calls: 3,
};
const coder = { ...emptyUsage(), promptTokens: 2_000, completionTokens: 1_000, usd: 0.003, calls: 1 };
const usage = {
  ...emptyUsage(),
  promptTokens: 32_000,
  cachedTokens: 12_288,
  completionTokens: 6_000,
  usd: 0.023,
  calls: 4,
};

function result(cost: RunResult['cost']): RunResult {
  return {
    ...status({ cost }),
    status: 'completed',
    plan: { summary: 's', tickets: [] },
    gates: [],
    calls: [],
    report: { headline: 'h', summary: 's', followUps: [] },
    manifest: [],
  } as unknown as RunResult;
}

test('the result and the status name the cached tokens, overall and per role', () => {
  const cost = { usd: 0.023, tokens: 38_000, usage, byRole: { boss, coder } };
  expect(resultText(result(cost))).toContain(
    'Cost: $0.0230 total, 38000 tokens, 12288 cached, 4 LLM calls — by role: boss $0.0200 (35000 tok, 12288 cached), coder $0.0030 (3000 tok)',
  );
  expect(statusText(status({ cost }))).toContain('Cost: $0.0230 (38000 tokens, 12288 cached)');
});

test('without cached tokens the cost lines read as before', () => {
  const none = { ...usage, cachedTokens: 0 };
  const cost = { usd: 0.023, tokens: 38_000, usage: none, byRole: { coder } };
  expect(resultText(result(cost))).toContain(
    'Cost: $0.0230 total, 38000 tokens, 4 LLM calls — by role: coder $0.0030 (3000 tok)',
  );
  expect(statusText(status({ cost }))).toContain('Cost: $0.0230 (38000 tokens)');
});
