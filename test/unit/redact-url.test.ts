/**
 * The one redaction of provider URLs (shared/redact-url.ts) and the places that must use it: the
 * endpoint shown in messages, the worker identity, and LLM call failures quoting the request URL.
 */
import OpenAI from 'openai';
import { endpointOf } from '../../src/activities/llm/client';
import { classifyLlmError } from '../../src/activities/llm/errors';
import { loadConfig } from '../../src/config';
import { redactUrl, redactUrlsDeep, redactUrlsIn } from '../../src/shared/redact-url';
import { workerIdentity } from '../../src/workers/llm-fingerprint';

const SECRET_URL =
  'https://bob:p%40ss-word@llm.example.com:8443/v1?api-key=K1&api-version=2024-10-21&sig=S1&token#frag';

describe('redactUrl', () => {
  it('masks user info, every query value but api-version, bare query keys and the fragment', () => {
    expect(redactUrl(SECRET_URL)).toBe(
      'https://***@llm.example.com:8443/v1?api-key=***&api-version=2024-10-21&sig=***&***#***',
    );
  });

  it('leaves URLs without credentials as written', () => {
    for (const url of ['https://api.openai.com/v1', 'http://127.0.0.1:8080/v1/', 'http://localhost:11434/v1?'])
      expect(redactUrl(url)).toBe(url);
  });

  it('a password holding "@" or "/"-free junk is masked whole', () => {
    expect(redactUrl('http://u:p@ss@host/v1')).toBe('http://***@host/v1');
    expect(redactUrl('http://:tok@host')).toBe('http://***@host');
  });

  it('redacts every URL inside a text and every string inside a report', () => {
    const text = `Request cannot be constructed from a URL that includes credentials: ${SECRET_URL}/chat/completions (fetch failed)`;
    const out = redactUrlsIn(text);
    for (const s of ['bob', 'p%40ss', 'K1', 'S1', 'frag']) expect(out).not.toContain(s);
    expect(out).toContain('(fetch failed)');
    expect(redactUrlsDeep({ a: [text], n: 3, b: { c: SECRET_URL } })).toEqual({
      a: [out],
      n: 3,
      b: { c: redactUrl(SECRET_URL) },
    });
  });
});

describe('every place a provider URL is shown', () => {
  it('endpointOf, the worker identity and a connection failure carry no credentials', () => {
    expect(endpointOf({ baseUrl: SECRET_URL, timeoutMs: 1000 })).toBe(redactUrl(SECRET_URL));
    const identity = workerIdentity(loadConfig({ OPENAI_BASE_URL: SECRET_URL, OPENAI_API_KEY: 'sk-real' }));
    const failure = classifyLlmError(
      new OpenAI.APIConnectionError({
        cause: new TypeError(`Request cannot be constructed from a URL that includes credentials: ${SECRET_URL}`),
      }),
      { label: 'boss plan', endpoint: endpointOf({ baseUrl: SECRET_URL, timeoutMs: 1000 }) },
    );
    for (const text of [identity, failure.message])
      for (const s of ['bob', 'p%40ss', 'K1', 'S1', 'sk-real']) expect(text).not.toContain(s);
    expect(identity).toContain('llm.example.com:8443');
    expect(failure.message).toContain('includes credentials');
  });
});
