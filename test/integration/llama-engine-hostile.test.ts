/**
 * Hostile clients against the real llama.cpp engine server: a streamed client that disconnects
 * mid-answer (its sequence is freed and the request still gets its log line), malformed and huge
 * bodies, `n` > 1, an absurd max_tokens, a thousand tools and a deeply nested tool schema. The
 * engine answers each with an honest status and keeps serving.
 */
import { request } from 'node:http';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';

jest.setTimeout(240_000);

let engine: EngineProcess;
beforeAll(async () => {
  engine = await startEngineProcess({ args: ['--parallel', '1', '--queue', '1', '--max-tokens', '48'] });
});
afterAll(async () => {
  await engine?.stop();
});

const logLines = () =>
  engine
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('llama-engine: POST /v1/chat/completions'));

async function post(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${engine.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  return { status: res.status, text: await res.text() };
}
const chat = (body: Record<string, unknown>) =>
  post(JSON.stringify({ model: 'm', temperature: 0, messages: [{ role: 'user', content: 'Hi' }], ...body }));

describe('the llama engine against hostile clients', () => {
  it('a streamed client that disconnects after its first chunk: the request is logged, the next one served', async () => {
    const before = logLines().length;
    const url = new URL(`${engine.baseUrl}/chat/completions`);
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.setTimeout(120_000, () => reject(new Error('no first chunk')));
      req.end(
        JSON.stringify({
          stream: true,
          max_tokens: 400,
          messages: [{ role: 'user', content: 'Write a long story about a dragon.' }],
        }),
      );
    });
    const next = await chat({ max_tokens: 8 });
    expect(next.status).toBe(200);
    const lines = logLines().slice(before);
    // One line for the request whose client went away, one for the next.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/client_closed|status=499/);
  });

  it('malformed JSON, a non-object and a body over the limit get a 4xx that says what is wrong', async () => {
    expect((await post('{"messages": [')).status).toBe(400);
    expect((await post('[1,2]')).status).toBe(400);
    const huge = await post(`{"messages":[{"role":"user","content":"${'x'.repeat(33 * 1024 * 1024)}"}]}`);
    expect(huge.status).toBe(413);
    expect(huge.text).toMatch(/too large/);
  });

  it('n > 1 is refused (one choice is all it generates), not answered with one choice', async () => {
    const res = await chat({ n: 3, max_tokens: 4 });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/'n'/);
  });

  it('max_tokens 1e9 is served within the context, a thousand tools and a deeply nested schema get answers', async () => {
    const big = await chat({ max_tokens: 1e9, messages: [{ role: 'user', content: 'Say hi.' }] });
    expect(big.status).toBe(200);
    const tools = Array.from({ length: 1000 }, (_, i) => ({
      type: 'function',
      function: { name: `t${i}`, parameters: { type: 'object', properties: { a: { type: 'string' } } } },
    }));
    const many = await chat({ tools, max_tokens: 16 });
    expect([200, 400]).toContain(many.status);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 2000; i++) deep = { type: 'object', properties: { a: deep }, required: ['a'] };
    const nested = await chat({
      tools: [{ type: 'function', function: { name: 'deep', parameters: deep } }],
      max_tokens: 16,
    });
    expect([200, 400]).toContain(nested.status);
    // Still serving.
    expect((await chat({ max_tokens: 4 })).status).toBe(200);
  });
});
