/**
 * A hostile or broken provider (or the gateway's upstream) answers with usage fields that are
 * negative, strings, huge or missing: the billed tokens and dollars stay finite, whole and >= 0.
 */
import type OpenAI from 'openai';
import { answeredCall } from '../../src/activities/llm/structured';

function completion(usage: unknown): OpenAI.ChatCompletion {
  return {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [
      { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'hi', refusal: null } },
    ],
    usage,
  } as unknown as OpenAI.ChatCompletion;
}

const prices = { m: { input: 1, cachedInput: 0.5, output: 2 } };

function billed(usage: unknown) {
  return answeredCall({
    completion: completion(usage),
    asked: 'm',
    prices,
    startedAt: new Date(0),
    t0: Date.now(),
    repaired: false,
    estimatePrompt: () => 7,
  });
}

const sane = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;

describe('usage a provider reports', () => {
  it.each([
    ['negative completion', { prompt_tokens: 10, completion_tokens: -1_000_000_000 }],
    ['negative prompt', { prompt_tokens: -5_000_000, completion_tokens: 3 }],
    ['strings', { prompt_tokens: '100', completion_tokens: '5' }],
    ['huge', { prompt_tokens: 1e308, completion_tokens: 1e308 }],
    [
      'cached beyond prompt, negative',
      { prompt_tokens: 10, completion_tokens: 3, prompt_tokens_details: { cached_tokens: -1e9 } },
    ],
    ['fractional', { prompt_tokens: 10.5, completion_tokens: 3.25 }],
    [
      'reasoning as string',
      { prompt_tokens: 10, completion_tokens: 3, completion_tokens_details: { reasoning_tokens: 'lots' } },
    ],
  ])('%s: tokens and usd stay finite, whole and never negative', (_name, usage) => {
    const r = billed(usage);
    for (const k of ['promptTokens', 'cachedTokens', 'completionTokens', 'usd'] as const) expect(sane(r[k])).toBe(true);
    for (const k of ['promptTokens', 'cachedTokens', 'completionTokens'] as const)
      expect(Number.isInteger(r[k])).toBe(true);
    expect(r.cachedTokens).toBeLessThanOrEqual(r.promptTokens);
    if (r.reasoningTokens !== undefined) expect(sane(r.reasoningTokens)).toBe(true);
  });
});

describe('an answer of the wrong shape and no usage', () => {
  it.each([
    [
      'tool_calls not an array',
      {
        choices: [
          { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'x', tool_calls: 'lots' } },
        ],
      },
    ],
    ['no choices', { choices: undefined }],
    [
      'content not a string',
      { choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: { a: 1 } } }] },
    ],
  ])('%s: billed by estimate, no throw', (_name, shape) => {
    const c = { ...completion(undefined), ...shape } as unknown as OpenAI.ChatCompletion;
    const r = answeredCall({
      completion: c,
      asked: 'm',
      prices,
      startedAt: new Date(0),
      t0: Date.now(),
      repaired: false,
      estimatePrompt: () => 7,
    });
    expect(r.promptTokens).toBe(7);
    expect(sane(r.completionTokens)).toBe(true);
  });
});
