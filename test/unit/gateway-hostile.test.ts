/**
 * The gateway under hostile clients and models, over real HTTP against the simulated LLM: bodies
 * over the cap, wrong shapes in each format, an answer with 1,000 tool calls, clients that send
 * their request a byte at a time, many calls at once, a CLI that keeps calling after its permits
 * are gone, and a gateway closed under a hung call. Each must end in a clear answer, never a hang,
 * and never in a call the budget did not allow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway';
import { postMessages } from '../helpers/gateway-client';

let sim: SimLlm;
const open: Gateway[] = [];
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
});
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
  sim.clearFaults();
  sim.clearRequests();
});
afterAll(() => sim.close());

async function gateway(o: Partial<GatewayOptions> = {}, upstream = sim): Promise<Gateway> {
  const g = await startGateway({
    llm: { baseUrl: upstream.baseUrl, apiKey: 'sim', timeoutMs: 10_000 },
    model: 'maestro-sim',
    meta: { kind: 'work', role: 'coder', ticketId: 'T9', attempt: 1 },
    wallMs: 60_000,
    ...o,
  });
  open.push(g);
  return g;
}

const post = (g: Gateway, path: string, body: string) =>
  fetch(`${g.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.token}`, 'content-type': 'application/json' },
    body,
  }).then(async (r) => ({ status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> }));

const chatBody = (text: string) => JSON.stringify({ model: 'x', messages: [{ role: 'user', content: text }] });

test('a body over the cap is refused with 413 in the format of its route, declared or streamed, before the provider sees it', async () => {
  const g = await gateway({ limits: { maxBodyBytes: 4096 } });
  const big = chatBody('x'.repeat(10_000));
  const chat = await post(g, '/v1/chat/completions', big);
  expect(chat.status).toBe(413);
  expect(chat.json).toMatchObject({
    error: { code: 'request_too_large', message: expect.stringContaining('4096 bytes') },
  });
  const messages = await post(g, '/v1/messages?beta=true', big);
  expect(messages.json).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  // No Content-Length: chunks until the cap is passed.
  const status = await new Promise<number>((resolve, reject) => {
    const url = new URL(`${g.url}/v1/responses`);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${g.token}` },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 20; i++) req.write('x'.repeat(1024));
    req.end();
  });
  expect(status).toBe(413);
  expect(sim.requests()).toHaveLength(0);
  expect(g.ledger().requests.invalid).toBe(3);
});

test('wrong shapes get a 400 that names the problem, in each format’s own error shape', async () => {
  const g = await gateway();
  const cases: [string, string, string][] = [
    ['/v1/chat/completions', '{"model":', 'not JSON'],
    ['/v1/chat/completions', '[]', 'JSON object'],
    ['/v1/chat/completions', '{"messages":"hi"}', '"messages" must be a non-empty array'],
    ['/v1/chat/completions', '{"messages":[{"role":"wizard","content":"x"}]}', 'messages[0].role must be one of'],
    ['/v1/chat/completions', '{"messages":[{"role":"tool","content":"x"}]}', 'tool_call_id'],
    ['/v1/chat/completions', '{"messages":[{"role":"user","content":"x"}],"tools":{}}', '"tools" must be an array'],
    ['/v1/responses', '{"input":42}', '"input" must be a string or an array'],
    ['/v1/responses', '{"input":[{"type":"computer_call"}]}', 'is not supported'],
    ['/v1/responses', '{"input":[{"type":"function_call","name":"x"}]}', 'call_id'],
    ['/v1/responses', '{"input":"x","previous_response_id":"resp_1"}', 'send the whole conversation'],
    ['/v1/messages', '{"messages":[{"role":"user","content":42}]}', 'content must be a string or an array'],
    ['/v1/messages', '{"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"x"}]}]}', 'tool_use'],
    ['/v1/messages', '{"messages":[{"role":"user","content":"x"}],"tools":[{}]}', 'tools[0] needs a "name"'],
  ];
  for (const [path, body, says] of cases) {
    const r = await post(g, path, body);
    expect([path, body, r.status]).toEqual([path, body, 400]);
    const message = path.startsWith('/v1/messages')
      ? (r.json as { type: string; error: { type: string; message: string } }).error.message
      : (r.json as { error: { message: string } }).error.message;
    expect(message).toContain(says);
    if (path.startsWith('/v1/messages')) expect(r.json.type).toBe('error');
  }
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const nested: [string, string][] = [
    [
      '/v1/messages',
      `{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"x","input":${deep}}]}]}`,
    ],
    [
      '/v1/chat/completions',
      `{"messages":[{"role":"assistant","tool_calls":[{"id":"t","function":{"name":"x","arguments":${deep}}}]}]}`,
    ],
    ['/v1/responses', `{"input":[{"type":"function_call","call_id":"t","name":"x","arguments":${deep}}]}`],
    [
      '/v1/messages',
      `{"messages":[{"role":"user","content":"x"}],"tools":[{"name":"x","input_schema":{"a":${deep}}}]}`,
    ],
  ];
  for (const [path, body] of nested) {
    const r = await post(g, path, body);
    expect([path, r.status, JSON.stringify(r.json)]).toEqual([
      path,
      400,
      expect.stringContaining('nest values less deeply'),
    ]);
  }
  const get = await fetch(`${g.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${g.token}` } });
  expect(get.status).toBe(404);
  expect(sim.requests()).toHaveLength(0);
  expect(g.ledger().permitsUsed).toBe(0);
});

test('an answer with 1,000 tool calls reaches each format bounded, with a note, and is billed once', async () => {
  const g = await gateway({ limits: { maxToolCalls: 128 } });
  const thousand = () =>
    sim.injectFault({
      kind: 'tool-calls',
      toolCalls: Array.from({ length: 1000 }, (_, i) => ({ id: `c${i}`, name: 'Write', arguments: `{"n":${i}}` })),
    });
  const tools = [{ type: 'function', function: { name: 'Write', parameters: { type: 'object' } } }];
  thousand();
  const chat = await post(
    g,
    '/v1/chat/completions',
    JSON.stringify({ messages: [{ role: 'user', content: 'go' }], tools }),
  );
  const message = (chat.json as unknown as OpenAI.ChatCompletion).choices[0]!.message;
  expect(message.tool_calls).toHaveLength(128);
  expect(message.content).toContain('872 more tool call(s) left out');
  thousand();
  const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: g.token, maxRetries: 0 });
  const stream = await client.responses.create({
    model: 'x',
    input: 'go',
    stream: true,
    tools: [{ type: 'function', name: 'Write', parameters: {}, strict: false }],
  });
  let calls = 0;
  for await (const e of stream) if (e.type === 'response.output_item.done' && e.item.type === 'function_call') calls++;
  expect(calls).toBe(128);
  thousand();
  const anthropic = await postMessages(g.url!, g.token, {
    model: 'c',
    max_tokens: 5,
    stream: true,
    tools: [{ name: 'Write', input_schema: { type: 'object' } }],
    messages: [{ role: 'user', content: 'go' }],
  });
  const starts = anthropic
    .events!.filter((e) => e.event === 'content_block_start')
    .map((e) => JSON.parse(e.data) as { content_block: { type: string } });
  expect(starts.filter((s) => s.content_block.type === 'tool_use')).toHaveLength(128);
  expect(g.ledger().calls).toHaveLength(3);
  expect(sim.requests().filter((r) => r.status === 200)).toHaveLength(3);
});

/** Opens a raw connection that sends `prefix`, then `text` one byte every `everyMs`; resolves when the server closes it. */
function dribble(g: Gateway, prefix: string, text: string, everyMs: number): Promise<{ ms: number; reply: string }> {
  const url = new URL(g.url!);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(Number(url.port), url.hostname, () => s.write(prefix));
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < text.length && !s.destroyed) s.write(text[i++]!);
    }, everyMs);
    s.on('data', (c: Buffer) => (reply += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, reply });
    });
  });
}

test('slowloris: a client dribbling its headers or its body is cut off, and others are served meanwhile', async () => {
  const g = await gateway({ limits: { headersTimeoutMs: 600, requestTimeoutMs: 1_500 } });
  const headers = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.token}\r\n${'X-Slow: y\r\n'.repeat(100)}\r\n`;
  const body = chatBody('slow');
  const start = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.token}\r\nContent-Length: ${body.length}\r\n\r\n`;
  const [h, b, fast] = await Promise.all([
    dribble(g, '', headers, 50),
    dribble(g, start, body, 100),
    new Promise((r) => setTimeout(r, 200)).then(() => post(g, '/v1/chat/completions', chatBody('fast'))),
  ]);
  expect(fast.status).toBe(200);
  expect(h.ms).toBeLessThan(5_000);
  expect(h.reply).toMatch(/^HTTP\/1\.1 408|^$/);
  expect(b.ms).toBeLessThan(6_000);
  expect(sim.requests()).toHaveLength(1);
});

test('many calls at once never pass the permits; past the concurrency limit a call is told to retry', async () => {
  const slow = await startSimLlm({ port: 0, latencyMs: 300 });
  try {
    const g = await gateway({ permits: 3, limits: { maxConcurrent: 20 } }, slow);
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(g, '/v1/chat/completions', chatBody(`c${i}`)).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    expect(slow.requests()).toHaveLength(3);
    expect(g.ledger()).toMatchObject({ permitsUsed: 3, stopped: { reason: 'permits' } });

    const busy = await gateway({ permits: 20, limits: { maxConcurrent: 2 } }, slow);
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => post(busy, '/v1/chat/completions', chatBody(`b${i}`))),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(2);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(3);
    expect(refused[0]?.headers.get('retry-after')).toBe('1');
    expect(busy.ledger().permitsUsed).toBe(2);
  } finally {
    await slow.close();
  }
});

test('a CLI that keeps calling after its permits are gone is refused every time, and nothing reaches the provider', async () => {
  const g = await gateway({ permits: 1 });
  expect((await post(g, '/v1/chat/completions', chatBody('first'))).status).toBe(200);
  for (let i = 0; i < 50; i++) {
    const r = await post(
      g,
      i % 2 ? '/v1/responses' : '/v1/chat/completions',
      i % 2 ? '{"input":"again"}' : chatBody('again'),
    );
    expect(r.status).toBe(400);
  }
  expect(sim.requests()).toHaveLength(1);
  expect(g.ledger()).toMatchObject({
    permitsUsed: 1,
    requests: { total: 51, refused: 50 },
    stopped: { reason: 'permits' },
  });
});

test('closing the gateway under a hung call answers or drops the client at once, bills the call and refuses the rest', async () => {
  const g = await gateway();
  sim.injectFault({ kind: 'hang' });
  const t0 = Date.now();
  const hung = post(g, '/v1/chat/completions', chatBody('hang')).then(
    (r) => r.status,
    () => 'dropped',
  );
  await new Promise((r) => setTimeout(r, 300));
  await g.close();
  expect(await hung).toEqual(expect.anything());
  expect(Date.now() - t0).toBeLessThan(3_000);
  const bill = g.ledger();
  expect(bill.stopped?.reason).toBe('closed');
  expect(bill.calls).toHaveLength(1);
  expect(bill.calls[0]?.error).toBeDefined();
  await expect(post(g, '/v1/chat/completions', chatBody('after'))).rejects.toThrow();
});

test('keys: a lower-case bearer and x-api-key are accepted; a longer, shorter or prefixed key is not', async () => {
  const g = await gateway();
  const call = (headers: Record<string, string>) => fetch(`${g.url}/v1/models`, { headers }).then((r) => r.status);
  expect(await call({ authorization: `bearer ${g.token}` })).toBe(200);
  expect(await call({ 'x-api-key': g.token })).toBe(200);
  expect(await call({ authorization: `Bearer ${g.token}x` })).toBe(401);
  expect(await call({ authorization: `Bearer ${g.token.slice(1)}` })).toBe(401);
  expect(await call({ authorization: g.token })).toBe(401);
  expect(await call({ authorization: `Basic ${g.token}` })).toBe(401);
  expect(g.ledger().requests.unauthorized).toBe(4);
});

test('a request that cannot be logged is not sent: no permit taken, the provider sees nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-gw-log-'));
  const g = await gateway({ permits: 3, requestLog: join(dir, 'requests.jsonl') });
  rmSync(dir, { recursive: true, force: true });
  const r = await post(g, '/v1/chat/completions', chatBody('unlogged'));
  expect(r.status).toBe(502);
  expect(r.json).toMatchObject({ error: { message: expect.stringContaining('could not write the request log') } });
  expect(sim.requests()).toHaveLength(0);
  expect(g.ledger().permitsUsed).toBe(0);
});

test('a gateway without finite bounds is not started', async () => {
  await expect(gateway({ wallMs: Infinity })).rejects.toThrow('wallMs must be a finite number');
  await expect(gateway({ permits: -1 })).rejects.toThrow('permits must be a whole number');
  const none = await gateway({ permits: 0 });
  expect((await post(none, '/v1/chat/completions', chatBody('x'))).status).toBe(400);
  expect(sim.requests()).toHaveLength(0);
});
