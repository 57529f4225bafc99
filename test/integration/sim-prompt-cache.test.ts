/**
 * The simulated LLM reports `usage.prompt_tokens_details.cached_tokens` the way OpenAI does, over
 * real HTTP with the real OpenAI client: only from 1,024 tokens, in 128-token steps, for the
 * longest prefix shared with an earlier request to the same model; and it remembers a bounded
 * number of prefixes. Maestro bills those tokens at the cached price.
 */
import OpenAI from 'openai';
import { answeredCall } from '../../src/activities/llm/structured';
import { costOf } from '../../src/activities/llm/pricing';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { PromptCache } from '../../src/dev/sim-llm/prompt-cache';

let sim: SimLlm;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  client = new OpenAI({ baseURL: sim.baseUrl, apiKey: 'x', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

/** `n` simulated tokens of text (the simulator counts 4 characters a token). */
function text(n: number, seed: string): string {
  return `${seed} `.repeat(n * 4).slice(0, n * 4);
}

async function cached(model: string, system: string, user: string): Promise<{ prompt: number; cached: number }> {
  const res = await client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
  });
  return { prompt: res.usage?.prompt_tokens ?? -1, cached: res.usage?.prompt_tokens_details?.cached_tokens ?? -1 };
}

test('a prompt shorter than 1,024 tokens is never cached, however often it is sent', async () => {
  const system = text(900, 'short-system');
  await cached('m-short', system, 'a');
  expect(await cached('m-short', system, 'a')).toEqual({ prompt: 901, cached: 0 });
});

test('the longest prefix shared with an earlier request counts, in whole 128-token blocks', async () => {
  const stable = text(1500, 'stable');
  const first = await cached('m-prefix', stable, text(300, 'ticket-one'));
  expect(first).toEqual({ prompt: 1800, cached: 0 });
  // 1,500 shared tokens: 11 whole blocks of 128 = 1,408 (the 92 tokens after them are not a whole block).
  expect(await cached('m-prefix', stable, text(300, 'ticket-two'))).toEqual({ prompt: 1800, cached: 1408 });
  // The same prompt again: every whole block of it (14 × 128 of 1,800).
  expect(await cached('m-prefix', stable, text(300, 'ticket-two'))).toEqual({ prompt: 1800, cached: 1792 });
});

test('a shared prefix under 1,024 tokens caches nothing; another model has its own cache', async () => {
  const head = text(1000, 'head');
  await cached('m-min', head, text(500, 'x'));
  expect((await cached('m-min', head, text(500, 'y'))).cached).toBe(0);
  expect((await cached('m-other', head, text(500, 'x'))).cached).toBe(0);
});

test('a change early in the prompt ends the shared prefix there, even when the rest is identical', async () => {
  const tail = text(2000, 'tail');
  await cached('m-early', 'A', tail);
  expect((await cached('m-early', 'B', tail)).cached).toBe(0);
});

test('the request log and the bill carry the cached tokens at the cached price', async () => {
  sim.clearRequests();
  const system = text(1200, 'billed');
  await cached('maestro-sim', system, 'one');
  const res = await client.chat.completions.create({
    model: 'maestro-sim',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: 'two' },
    ],
  });
  expect(sim.requests().map((r) => r.usage?.cached_tokens)).toEqual([0, 1152]);
  const call = answeredCall({
    completion: res,
    asked: 'maestro-sim',
    prices: undefined,
    startedAt: new Date(0),
    t0: Date.now(),
    repaired: false,
  });
  expect(call.cachedTokens).toBe(1152);
  const tokens = { promptTokens: 1201, cachedTokens: 1152, completionTokens: call.completionTokens };
  // maestro-sim: 0.4 $/M input, 0.1 $/M cached input.
  expect(call.usd).toBeCloseTo((49 * 0.4 + 1152 * 0.1 + call.completionTokens * 1.6) / 1e6, 6); // bills round to 1e-6 $
  expect(call.usd).toBe(costOf('maestro-sim', tokens));
  expect(call.usd).toBeLessThan(costOf('maestro-sim', { ...tokens, cachedTokens: 0 }));
});

describe('PromptCache memory', () => {
  test('remembers at most maxBlocks blocks, forgetting the least recently used first', () => {
    const cache = new PromptCache(16);
    const a = text(1024, 'a');
    cache.cachedTokens('m', a); // 8 blocks
    cache.cachedTokens('m', text(1024, 'b')); // 8 more: full
    expect(cache.cachedTokens('m', a)).toBe(1024); // a is used again, so b is now the oldest
    cache.cachedTokens('m', text(1024, 'c')); // pushes b out
    expect(cache.size).toBe(16);
    expect(cache.cachedTokens('m', a)).toBe(1024);
    expect(cache.cachedTokens('m', text(1024, 'b'))).toBe(0);
  });

  test('a huge prompt does not grow memory past the bound', () => {
    const cache = new PromptCache(100);
    cache.cachedTokens('m', text(200_000, 'huge'));
    expect(cache.size).toBe(100);
  });

  test('a nonsensical bound is refused with what to give instead', () => {
    expect(() => new PromptCache(0)).toThrow(/maxBlocks must be a whole number >= 1/);
  });
});

describe('PromptCache on hostile text', () => {
  test('prompts that differ only in half of a cut surrogate pair do not share that block', () => {
    const cache = new PromptCache(1000);
    // 1,024 tokens of identical text, then a block that ends in a different lone high surrogate.
    const head = text(1024, 'same');
    const block = (hi: string) => `${'z'.repeat(511)}${hi}`;
    cache.cachedTokens('m', `${head}${block('\uD83D')}\uDE00${'y'.repeat(600)}`);
    expect(cache.cachedTokens('m', `${head}${block('\uD83E')}\uDD14${'y'.repeat(600)}`)).toBe(1024);
  });

  test('escape bytes and a huge model name are just text to it', () => {
    const cache = new PromptCache(1000);
    const model = `\u001b[2J${'m'.repeat(100_000)}`;
    const prompt = `\u001b]0;title\u0007${text(1100, 'esc')}`;
    cache.cachedTokens(model, prompt);
    expect(cache.cachedTokens(model, prompt)).toBe(1024);
    expect(cache.cachedTokens('m', prompt)).toBe(0);
  });
});
