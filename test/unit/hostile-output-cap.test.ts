/**
 * A hostile LLM server against the default output cap's learning (adaptations.ts): the limit a
 * 400 names must never become a harmful cap (a number misread from "1e30" or "4,096", zero,
 * negative, NaN), and reading a huge error body must take bounded time (no regex backtracking
 * over megabytes that blocks the worker's event loop).
 */
import OpenAI from 'openai';
import { adjustmentFor, namedOutputLimit, DEFAULT_MAX_TOKENS } from '../../src/activities/llm/adaptations';

const sent = { mode: 'json_schema' as const, temperature: false, defaultCap: DEFAULT_MAX_TOKENS };
const refusal = (message: string) => new OpenAI.BadRequestError(400, { message }, message, new Headers());

describe('a 400 naming an absurd output limit', () => {
  it.each([
    ['max_tokens must be <= 0'],
    ['max_tokens must be <= -5'],
    ['max_tokens must be <= 1e30'],
    ['max_tokens must be <= 99999999999999999999'],
    ['max_tokens must be <= NaN'],
    ['max_tokens must be less than or equal to 2.5'],
  ])('%j: no misread cap is learned (the cap is dropped instead)', (text) => {
    const adj = adjustmentFor(refusal(text), sent);
    expect(adj?.patch.defaultCap).toBe('none');
  });

  it.each([
    ['max_tokens: supports at most 4,096 completion tokens', 4096],
    ['max_tokens must be less than or equal to 4,096', 4096],
    ['max_tokens must be <= 4_096', 4096],
    ['max_tokens is too large: 8192 > 4096, which is the maximum allowed', 4096],
  ])('%j: the whole number is read, not its first digits', (text, limit) => {
    expect(namedOutputLimit(text.toLowerCase(), DEFAULT_MAX_TOKENS)).toBe(limit);
  });

  it('a 400 with ESC bytes in it gives a notice of plain text', () => {
    const adj = adjustmentFor(refusal('\u001b]0;pwned\u0007max_tokens must be <= 4096\u001b[2J'), sent);
    expect(adj?.patch.defaultCap).toBe(4096);
    expect(adj?.notice).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a 5 MB error body is judged in bounded time', () => {
    const body = `max_tokens is too large; ${'maximum number of '.repeat(300_000)}`;
    const t0 = Date.now();
    const adj = adjustmentFor(refusal(body), sent);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(adj?.patch.defaultCap).toBe('none');
  });
});
