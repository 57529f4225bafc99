/** The cache bench's arithmetic: repeated prefixes per role and the bill with and without cached tokens. */
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { prefixCalls, prefixRows } from '../../src/bench/prefix-share';

function rec(seq: number, model: string, system: string, user: string, cached = 0, status = 200): SimRequestRecord {
  return {
    seq,
    at: '',
    model,
    schemaName: 'x',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    status,
    durationMs: 0,
    usage: {
      prompt_tokens: Math.ceil((system.length + user.length) / 4),
      completion_tokens: 10,
      cached_tokens: cached,
    },
  };
}

test('a call repeats the longest prefix of any earlier call of its model, in whole tokens', () => {
  const calls = prefixCalls(
    [
      rec(1, 'm', 'S'.repeat(400), 'a'.repeat(400)),
      rec(3, 'm', 'S'.repeat(400), 'b'.repeat(400)), // shares 400 characters = 100 tokens
      rec(2, 'other', 'S'.repeat(400), 'b'.repeat(400)), // another model: nothing earlier
      rec(4, 'm', 'S'.repeat(400), 'b'.repeat(400), 0, 500), // not answered: left out
    ],
    () => 'r',
  );
  expect(calls.map((c) => c.repeatedTokens)).toEqual([0, 0, 100]);
});

test('rows per role and in all; the uncached bill prices every prompt token at the input price', () => {
  const calls = prefixCalls(
    [rec(1, 'maestro-sim', 'S'.repeat(4096), 'a', 0), rec(2, 'maestro-sim', 'S'.repeat(4096), 'b', 1024)],
    (r) => (r.seq === 1 ? 'boss' : 'coder'),
  );
  const rows = prefixRows(calls);
  expect(rows.map((r) => r.role)).toEqual(['boss', 'coder', 'all']);
  const coder = rows[1]!;
  expect(coder).toMatchObject({ calls: 1, promptTokens: 1025, repeatedTokens: 1024, cachedTokens: 1024 });
  // maestro-sim: $0.40/M input, $0.10/M cached, $1.60/M output.
  expect(coder.usdUncached).toBeCloseTo((1025 * 0.4 + 10 * 1.6) / 1e6, 6);
  expect(coder.usdCached).toBeCloseTo((1 * 0.4 + 1024 * 0.1 + 10 * 1.6) / 1e6, 6);
  expect(rows[2]!.usdCached).toBeCloseTo(rows[0]!.usdCached + coder.usdCached, 9);
});
