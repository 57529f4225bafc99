/**
 * The simulated LLM's admin routes (`/_sim/*`) over real HTTP: they honour `requireApiKey` like
 * `/v1/*`, and refuse writes a browser page on another origin could send (a "simple" text/plain
 * POST needs no CORS preflight, so only the server itself can refuse it).
 */
import OpenAI from 'openai';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';

const KEY = 'admin-secret';
let locked: SimLlm;
let open: SimLlm;

beforeAll(async () => {
  locked = await startSimLlm({ requireApiKey: KEY });
  open = await startSimLlm();
});

afterAll(async () => {
  await locked.close();
  await open.close();
});

const adminUrl = (sim: SimLlm, route: string) => sim.baseUrl.replace(/\/v1$/, `/_sim/${route}`);
const bearer = { authorization: `Bearer ${KEY}` };
const json = { 'content-type': 'application/json' };
const aFault = JSON.stringify({ kind: 'server-error' });

/** Whether the next chat completion on `sim` is answered normally (no fault was queued). */
async function nextCallSucceeds(sim: SimLlm, apiKey = KEY): Promise<boolean> {
  const c = new OpenAI({ baseURL: sim.baseUrl, apiKey, maxRetries: 0 });
  return c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => true,
    () => false,
  );
}

describe('requireApiKey covers the admin routes', () => {
  test.each([
    ['GET', 'health'],
    ['GET', 'requests'],
    ['DELETE', 'requests'],
    ['DELETE', 'faults'],
  ])('%s /_sim/%s: 401 without the key, 200 with it', async (method, route) => {
    const without = await fetch(adminUrl(locked, route), { method });
    expect(without.status).toBe(401);
    expect(((await without.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    const wrong = await fetch(adminUrl(locked, route), { method, headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(adminUrl(locked, route), { method, headers: bearer })).status).toBe(200);
  });

  test('POST /_sim/faults without the key queues nothing; with it the fault applies', async () => {
    const refused = await fetch(adminUrl(locked, 'faults'), { method: 'POST', headers: json, body: aFault });
    expect(refused.status).toBe(401);
    expect(await nextCallSucceeds(locked)).toBe(true);
    const accepted = await fetch(adminUrl(locked, 'faults'), {
      method: 'POST',
      headers: { ...json, ...bearer },
      body: aFault,
    });
    expect(accepted.status).toBe(200);
    expect(await nextCallSucceeds(locked)).toBe(false);
  });

  test('the request log is not readable without the key', async () => {
    await nextCallSucceeds(locked);
    const res = await fetch(adminUrl(locked, 'requests'));
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json())).not.toContain('"messages"');
  });
});

describe('cross-origin writes are refused', () => {
  test('a browser-style text/plain POST (no preflight) gets 415 and queues nothing', async () => {
    const res = await fetch(adminUrl(open, 'faults'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: aFault,
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /Content-Type: application\/json/,
    );
    expect(await nextCallSucceeds(open, 'x')).toBe(true);
  });

  test.each([
    ['an Origin of another site', { origin: 'http://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ])('POST and DELETE with %s get 403', async (_what, headers) => {
    const post = await fetch(adminUrl(open, 'faults'), {
      method: 'POST',
      headers: { ...json, ...headers },
      body: aFault,
    });
    expect(post.status).toBe(403);
    expect(((await post.json()) as { error: { message: string } }).error.message).toMatch(/cross-origin/);
    expect(await nextCallSucceeds(open, 'x')).toBe(true);
    await nextCallSucceeds(open, 'x');
    const del = await fetch(adminUrl(open, 'requests'), { method: 'DELETE', headers });
    expect(del.status).toBe(403);
    expect(open.requests().length).toBeGreaterThan(0);
  });

  test('a chat completion from a page on another site gets 403, consumes no fault and is not logged', async () => {
    await fetch(adminUrl(open, 'requests'), { method: 'DELETE' });
    await fetch(adminUrl(open, 'faults'), { method: 'POST', headers: json, body: aFault });
    const res = await fetch(`${open.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'http://evil.example' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /cross-origin POST to the simulated server's chat completions/,
    );
    expect(open.requests()).toHaveLength(0);
    // The fault the test queued is still there for the real client's call.
    expect(await nextCallSucceeds(open, 'x')).toBe(false);
  });

  test('same-origin and non-browser JSON writes still work', async () => {
    const sameOrigin = new URL(open.baseUrl).origin;
    const res = await fetch(adminUrl(open, 'faults'), {
      method: 'POST',
      headers: { ...json, origin: sameOrigin, 'sec-fetch-site': 'same-origin' },
      body: aFault,
    });
    expect(res.status).toBe(200);
    expect(await nextCallSucceeds(open, 'x')).toBe(false);
    const del = await fetch(adminUrl(open, 'requests'), { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(open.requests()).toHaveLength(0);
  });
});
