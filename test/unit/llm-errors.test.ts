/** Classification of provider errors into Temporal failures: what is retried, how long we wait, what users read. */
import OpenAI from 'openai';
import { classifyLlmError, retryAfterMs } from '../../src/activities/llm/errors';
import { priceFor } from '../../src/activities/llm/pricing';
import { FailureType } from '../../src/shared/errors';

const ctx = { label: 'coder T3 attempt 1', endpoint: 'http://llm.local/v1', timeoutMs: 2000 };

function apiError(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(status, { error: body }, undefined, new Headers(headers));
}

describe('classifyLlmError', () => {
  it('429: retried after the wait the server asked for', () => {
    const f = classifyLlmError(apiError(429, { message: 'slow down' }, { 'retry-after-ms': '250' }), ctx);
    expect(f.type).toBe(FailureType.LlmRateLimited);
    expect(f.nonRetryable).toBeFalsy();
    expect(f.nextRetryDelay).toBe(250);
    expect(f.message).toBe(
      'coder T3 attempt 1: rate limited by the provider (429); retrying after 250 ms as the server asked',
    );
  });

  it('429 without a usable retry-after: the normal backoff (absurd waits are not taken)', () => {
    expect(classifyLlmError(apiError(429, { message: 'x' }), ctx).nextRetryDelay).toBeUndefined();
    const f = classifyLlmError(apiError(429, { message: 'x' }, { 'retry-after': '86400' }), ctx);
    expect(f.nextRetryDelay).toBeUndefined();
    expect(f.message).toContain('will retry with backoff');
  });

  it('429 insufficient_quota: a billing problem, not retried', () => {
    const f = classifyLlmError(apiError(429, { message: 'You exceeded your quota', code: 'insufficient_quota' }), ctx);
    expect(f.type).toBe(FailureType.LlmConfig);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('check the plan and billing');
  });

  it.each([500, 502, 503, 408])('%i: transient, retried with backoff', (status) => {
    const f = classifyLlmError(apiError(status, { message: 'oops' }), ctx);
    expect(f.type).toBe(FailureType.LlmUnavailable);
    expect(f.nonRetryable).toBeFalsy();
    expect(f.message).toContain(`failed with ${status}`);
  });

  it.each([
    [400, 'run `maestro doctor` to see which structured-output mode the model supports'],
    [401, 'set OPENAI_API_KEY to a valid key for http://llm.local/v1'],
    [403, "check the key's permissions"],
    [404, 'check the role\'s "model" in maestro.config.json / MAESTRO_MODEL'],
    [422, 'check the model name and parameters'],
  ])('%i: not retried, says what to fix', (status, hint) => {
    const f = classifyLlmError(apiError(status, { message: 'no' }), ctx);
    expect(f.type).toBe(FailureType.LlmConfig);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(hint);
    expect(f.message).toMatch(/^coder T3 attempt 1: .*Not retried\.$/);
  });

  it('names the Azure key variable for Azure', () => {
    const f = classifyLlmError(apiError(401, { message: 'no' }), { ...ctx, keyVariable: 'AZURE_OPENAI_API_KEY' });
    expect(f.message).toContain('set AZURE_OPENAI_API_KEY');
  });

  it('a prompt too long for the model says so', () => {
    const f = classifyLlmError(apiError(400, { message: 'too long', code: 'context_length_exceeded' }), ctx);
    expect(f.message).toContain("longer than the model's context window");
  });

  it('timeouts and dropped connections: retried, with the timeout in force', () => {
    const t = classifyLlmError(new OpenAI.APIConnectionTimeoutError(), ctx);
    expect(t.type).toBe(FailureType.LlmUnavailable);
    expect(t.message).toContain('no answer within 2000 ms (MAESTRO_LLM_TIMEOUT_MS)');
    const c = classifyLlmError(new OpenAI.APIConnectionError({ cause: new Error('socket hang up') }), ctx);
    expect(c.type).toBe(FailureType.LlmUnavailable);
    expect(c.message).toContain('at http://llm.local/v1');
    expect(c.message).toContain('socket hang up');
  });
});

describe('retry-after', () => {
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
  });
});

describe('prices', () => {
  it('finds router-prefixed model names (OpenRouter) by their bare name', () => {
    expect(priceFor('openai/gpt-4o-mini')).toEqual(priceFor('gpt-4o-mini'));
    expect(priceFor('meta/llama-3')).toBeUndefined();
  });
});
