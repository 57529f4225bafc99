/**
 * The LLM gateway over real HTTP, with the simulated LLM as its upstream and the official openai
 * SDK (chat completions, Responses) or raw fetch + SSE (Anthropic Messages) as the CLI: tools
 * round-trip in all three formats, the bill equals the simulator's own count, permits and the
 * wall clock stop calls with an error no client retries, and the request log holds exactly what
 * the provider was sent.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { costOf } from '../../src/activities/llm/pricing';
import { readRequestLog, startGateway, type Gateway, type GatewayEvent, type GatewayOptions } from '../../src/gateway';
import { FORWARDER_SOURCE, type ForwarderLaunch } from '../../src/activities/executor/bridge';
import { parseSse, postMessages, simTotals } from '../helpers/gateway-client';

let sim: SimLlm;
let dir: string;
const open: Gateway[] = [];

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'maestro-gateway-'));
});
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
  sim.clearFaults();
  sim.clearRequests();
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gateway(o: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const g = await startGateway({
    llm: { baseUrl: sim.baseUrl, apiKey: 'sim-key', timeoutMs: 10_000 },
    model: 'maestro-sim',
    meta: { kind: 'work', role: 'coder', ticketId: 'T1', attempt: 1 },
    wallMs: 60_000,
    ...o,
  });
  open.push(g);
  return g;
}

const openai = (g: Gateway, key = g.token) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: key, maxRetries: 0 });

const writeTool = {
  type: 'function' as const,
  function: {
    name: 'write_file',
    description: 'Writes a file',
    parameters: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } },
  },
};
const scripted = (name: string, args: unknown, n = 1) =>
  sim.injectFault({
    kind: 'tool-calls',
    toolCalls: Array.from({ length: n }, (_, i) => ({ id: `call_${i}`, name, arguments: JSON.stringify(args) })),
  });

test('chat completions: a streamed tool call with include_usage, then its result round-trips to the provider', async () => {
  const g = await gateway();
  const client = openai(g);
  scripted('write_file', { path: 'a.txt', content: 'hello' });
  const stream = await client.chat.completions.create({
    model: 'some-cli-model',
    messages: [
      { role: 'system', content: 'You are a coder.' },
      { role: 'user', content: 'Write a.txt' },
    ],
    tools: [writeTool],
    stream: true,
    stream_options: { include_usage: true },
  });
  const calls: { id?: string; name?: string; args: string }[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  let finish: string | null = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice?.finish_reason) finish = choice.finish_reason;
    for (const d of choice?.delta.tool_calls ?? []) {
      calls[d.index] ??= { args: '' };
      const c = calls[d.index]!;
      if (d.id) c.id = d.id;
      if (d.function?.name) c.name = d.function.name;
      c.args += d.function?.arguments ?? '';
    }
  }
  expect(finish).toBe('tool_calls');
  expect(calls).toEqual([{ id: 'call_0', name: 'write_file', args: '{"path":"a.txt","content":"hello"}' }]);
  const first = sim.requests()[0]!;
  expect(first.model).toBe('maestro-sim'); // the role's model, not the CLI's
  expect(usage?.prompt_tokens).toBe(first.usage?.prompt_tokens);
  expect(usage?.completion_tokens).toBe(first.usage?.completion_tokens);

  const answer = await client.chat.completions.create({
    model: 'some-cli-model',
    messages: [
      { role: 'user', content: 'Write a.txt' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'write_file', arguments: calls[0]!.args } }],
      },
      { role: 'tool', tool_call_id: 'call_0', content: 'wrote a.txt (5 bytes)' },
    ],
  });
  expect(answer.model).toBe('some-cli-model');
  expect(answer.choices[0]?.message.content).toEqual(expect.any(String));
  expect(sim.requests()[1]?.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  expect(sim.requests()[1]?.messages[2]?.content).toBe('wrote a.txt (5 bytes)');
});

test('Responses API: codex-style streamed events for a function call and a custom tool, then their outputs go upstream', async () => {
  const g = await gateway();
  const client = openai(g);
  scripted('exec_command', { cmd: 'ls' });
  const tools: OpenAI.Responses.Tool[] = [
    {
      type: 'function',
      name: 'exec_command',
      description: 'Runs a command',
      strict: false,
      parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
    },
  ];
  const stream = await client.responses.create({
    model: 'gpt-5-codex',
    instructions: 'You are Codex.',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files' }] }],
    tools,
    stream: true,
  });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  const types = events.map((e) => e.type);
  expect(types[0]).toBe('response.created');
  expect(types).toEqual(
    expect.arrayContaining([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
    ]),
  );
  expect(types[types.length - 1]).toBe('response.completed');
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  const done = events.find((e) => e.type === 'response.output_item.done');
  const item = done?.type === 'response.output_item.done' ? done.item : undefined;
  expect(item).toMatchObject({
    type: 'function_call',
    call_id: 'call_0',
    name: 'exec_command',
    arguments: '{"cmd":"ls"}',
  });
  const completed = events[events.length - 1];
  const usage = completed?.type === 'response.completed' ? completed.response.usage : undefined;
  expect(usage?.input_tokens).toBe(sim.requests()[0]?.usage?.prompt_tokens);
  expect(usage?.output_tokens).toBe(sim.requests()[0]?.usage?.completion_tokens);
  expect(sim.requests()[0]?.messages).toEqual([
    { role: 'system', content: 'You are Codex.' },
    { role: 'user', content: 'List the files' },
  ]);

  scripted('apply_patch', { input: '*** Begin Patch\n*** End Patch' });
  const second = await client.responses.create({
    model: 'gpt-5-codex',
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files' }] },
      { type: 'function_call', call_id: 'call_0', name: 'exec_command', arguments: '{"cmd":"ls"}' },
      { type: 'function_call_output', call_id: 'call_0', output: 'a.txt\nb.txt' },
    ],
    tools: [...tools, { type: 'custom', name: 'apply_patch', description: 'Edits files' }],
  });
  expect(second.output[0]).toMatchObject({
    type: 'custom_tool_call',
    name: 'apply_patch',
    input: '*** Begin Patch\n*** End Patch',
  });
  const sent = sim.requests()[1]!;
  expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  expect(sent.messages[2]?.content).toBe('a.txt\nb.txt');
});

test('Anthropic Messages: streamed text and tool_use with input_json_delta, usage in message_delta, tool_result upstream', async () => {
  const g = await gateway();
  expect((await fetch(`${g.url}/`, { method: 'HEAD' })).status).toBe(200);
  const models = (await (await fetch(`${g.url}/v1/models`, { headers: { 'x-api-key': g.token } })).json()) as {
    data: { id: string }[];
  };
  expect(models.data[0]?.id).toBe('maestro-sim');
  scripted('Write', { file_path: '/tmp/ws/a.txt', content: 'x'.repeat(1000) });
  const tools = [
    {
      name: 'Write',
      description: 'Writes a file',
      input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } },
    },
  ];
  const res = await postMessages(g.url!, g.token, {
    model: 'claude-sonnet-4-5',
    max_tokens: 32000,
    system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Write a.txt' }] }],
    tools,
    stream: true,
  });
  expect(res.status).toBe(200);
  const events = res.events!.map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> }));
  expect(events[0]?.event).toBe('message_start');
  expect(events[events.length - 1]?.event).toBe('message_stop');
  const start = events.find((e) => e.event === 'content_block_start')?.data.content_block;
  expect(start).toEqual({ type: 'tool_use', id: 'call_0', name: 'Write', input: {} });
  const json = events
    .filter((e) => e.event === 'content_block_delta')
    .map((e) => (e.data.delta as { partial_json: string }).partial_json)
    .join('');
  expect(JSON.parse(json)).toEqual({ file_path: '/tmp/ws/a.txt', content: 'x'.repeat(1000) });
  const delta = events.find((e) => e.event === 'message_delta')?.data as {
    delta: { stop_reason: string };
    usage: { output_tokens: number };
  };
  expect(delta.delta.stop_reason).toBe('tool_use');
  expect(delta.usage.output_tokens).toBe(sim.requests()[0]?.usage?.completion_tokens);

  const next = await postMessages(g.url!, g.token, {
    model: 'claude-sonnet-4-5',
    max_tokens: 1000,
    system: 'You are Claude Code.',
    messages: [
      { role: 'user', content: 'Write a.txt' },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_0', name: 'Write', input: { file_path: 'a.txt' } }],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_0', content: [{ type: 'text', text: 'File created' }] },
          { type: 'text', text: 'Now stop.' },
        ],
      },
    ],
    tools,
  });
  expect(next.status).toBe(200);
  expect(next.json).toMatchObject({
    type: 'message',
    role: 'assistant',
    stop_reason: 'end_turn',
    content: [{ type: 'text' }],
  });
  expect(sim.requests()[1]?.messages).toEqual([
    { role: 'system', content: 'You are Claude Code.' },
    { role: 'user', content: 'Write a.txt' },
    { role: 'assistant', content: '' },
    { role: 'tool', content: 'File created' },
    { role: 'user', content: 'Now stop.' },
  ]);
});

test("the gateway's bill equals the simulator's own count, and the request log holds exactly what it was sent", async () => {
  const logFile = join(dir, 'bill.jsonl');
  const records: unknown[] = [];
  const g = await gateway({ requestLog: logFile, onCall: (r) => records.push(r) });
  const client = openai(g);
  const history: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'System prompt that repeats.' }];
  for (let i = 0; i < 4; i++) {
    // Long enough that the last calls share over 1,024 tokens with earlier ones, so the simulator caches.
    history.push({ role: 'user', content: `step ${i} ${'words '.repeat(400 * i)}` });
    const a = await client.chat.completions.create({ model: 'x', messages: history });
    history.push({ role: 'assistant', content: a.choices[0]?.message.content ?? '' });
  }
  await client.responses.create({ model: 'x', input: 'one more' });
  await postMessages(g.url!, g.token, { model: 'c', max_tokens: 10, messages: [{ role: 'user', content: 'and one' }] });
  const bill = g.ledger();
  const sims = simTotals(sim.requests());
  expect(sims.calls).toBe(6);
  expect(bill.calls).toHaveLength(6);
  expect(records).toHaveLength(6);
  expect(bill.usage).toMatchObject({
    calls: 6,
    promptTokens: sims.prompt,
    completionTokens: sims.completion,
    cachedTokens: sims.cached,
  });
  expect(sims.cached).toBeGreaterThan(0);
  const usd = bill.calls.reduce((n, c) => n + costOf('maestro-sim', c), 0);
  expect(bill.usage.usd).toBeCloseTo(usd, 9);
  expect(bill.usage.usd).toBeGreaterThan(0);
  expect(bill.calls.every((c) => c.role === 'coder' && c.ticketId === 'T1' && c.kind === 'work' && !c.error)).toBe(
    true,
  );

  const log = readRequestLog(logFile);
  expect(log.truncated).toBe(false);
  expect(log.requests.map((r) => r.messages.map(({ role, content }) => ({ role, content })))).toEqual(
    sim.requests().map((r) => r.messages),
  );
  expect(log.requests.map((r) => r.format)).toEqual(['chat', 'chat', 'chat', 'chat', 'responses', 'anthropic']);
  // Lines carry what each request added, not the whole conversation again.
  const lines = g.requestLogText().trim().split('\n');
  expect(lines[3]).not.toContain('System prompt that repeats.');
  expect(statSync(logFile).mode & 0o777).toBe(0o600);
});

test('permits: past them every format gets a 400 it does not retry, the provider sees nothing, and the ledger says why', async () => {
  const events: GatewayEvent[] = [];
  const g = await gateway({ permits: 2, log: (e) => events.push(e) });
  const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: g.token }); // default retries: 400 is not retried
  await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'one' }] });
  await client.responses.create({ model: 'x', input: 'two' });
  const chat = await client.chat.completions
    .create({ model: 'x', messages: [{ role: 'user', content: 'three' }] })
    .catch((e: unknown) => e);
  expect(chat).toBeInstanceOf(OpenAI.BadRequestError);
  expect((chat as InstanceType<typeof OpenAI.APIError>).code).toBe('maestro_budget_exhausted');
  const responses = await client.responses.create({ model: 'x', input: 'four', stream: true }).catch((e: unknown) => e);
  expect((responses as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
  const anthropic = await postMessages(g.url!, g.token, {
    model: 'c',
    max_tokens: 5,
    stream: true,
    messages: [{ role: 'user', content: 'five' }],
  });
  expect(anthropic.status).toBe(400);
  expect(anthropic.json).toMatchObject({
    type: 'error',
    error: { type: 'invalid_request_error', message: expect.stringContaining('used up') },
  });
  expect(sim.requests()).toHaveLength(2);
  const bill = g.ledger();
  expect(bill).toMatchObject({ permits: 2, permitsUsed: 2, stopped: { reason: 'permits' }, requests: { refused: 3 } });
  expect(bill.calls).toHaveLength(2);
  expect(events.filter((e) => e.kind === 'refused')).toHaveLength(3);
});

test('the wall clock: past it calls are refused; a hung provider is cut off so the CLI always gets an answer', async () => {
  const g = await gateway({ wallMs: 1_500 });
  sim.injectFault({ kind: 'hang' });
  const t0 = Date.now();
  const hung = await openai(g)
    .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hang' }] })
    .catch((e: unknown) => e);
  expect([(hung as InstanceType<typeof OpenAI.APIError>).status, (hung as Error).message]).toEqual([
    504,
    expect.stringContaining('did not answer within'),
  ]);
  expect(Date.now() - t0).toBeLessThan(5_000);
  const late = await openai(g)
    .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'late' }] })
    .catch((e: unknown) => e);
  expect((late as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
  const bill = g.ledger();
  expect(bill.stopped?.reason).toBe('wall-clock');
  expect(bill.calls).toHaveLength(1);
  expect(bill.calls[0]?.error).toBeDefined();
});

test('a failed provider call is billed with its error and relayed as a status the CLI can retry', async () => {
  const g = await gateway({ permits: 5 });
  sim.injectFault({ kind: 'server-error' });
  const failed = await openai(g)
    .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  sim.injectFault({ kind: 'rate-limit', retryAfterMs: 10 });
  const limited = await postMessages(g.url!, g.token, {
    model: 'c',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'y' }],
  });
  expect(limited.status).toBe(429);
  expect(limited.json).toMatchObject({ error: { type: 'rate_limit_error' } });
  const bill = g.ledger();
  expect(bill.permitsUsed).toBe(2);
  expect(bill.calls.map((c) => c.error)).toEqual(['MaestroLlmUnavailable', 'MaestroLlmRateLimited']);
});

test('a forged, missing or misplaced key gets a 401 that is logged, and never reaches the provider', async () => {
  const events: GatewayEvent[] = [];
  const g = await gateway({ log: (e) => events.push(e) });
  const forged = g.token.slice(0, -1) + (g.token.endsWith('A') ? 'B' : 'A');
  const wrong = await openai(g, forged)
    .chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
  const none = await postMessages(g.url!, '', {
    model: 'c',
    max_tokens: 5,
    messages: [{ role: 'user', content: 'y' }],
  });
  expect(none.status).toBe(401);
  expect(none.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  const query = await fetch(`${g.url}/v1/models?key=${g.token}`);
  expect(query.status).toBe(401);
  expect(sim.requests()).toHaveLength(0);
  expect(g.ledger().requests.unauthorized).toBe(3);
  expect(events.map((e) => [e.kind, e.status])).toEqual([
    ['unauthorized', 401],
    ['unauthorized', 401],
    ['unauthorized', 401],
  ]);
});

test("a sandbox reaches the gateway through its Unix socket and the executor's forwarder on its own loopback", async () => {
  const socketPath = join(dir, 'gw.sock');
  const g = await gateway({ tcp: false, socketPath });
  expect(g.url).toBeUndefined();
  expect(statSync(socketPath).mode & 0o777).toBe(0o666);
  // As run-cli.ts starts it in the sandbox: forwarder.cjs beside its launch.json, which names the
  // program it starts with {{PORT}} filled in (here a node script that calls the gateway).
  const ctl = mkdtempSync(join(dir, 'ctl-'));
  const script = `
    const base = process.env.GW;
    const post = (key, stream) => fetch(base + '/v1/responses', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
      body: JSON.stringify({ model: 'x', input: 'through the socket', stream }),
    }).then(async (r) => [r.status, (await r.text()).includes('response.completed')]);
    (async () => console.log(JSON.stringify([base, await post(process.env.KEY, true), await post('nope', false)])))();
  `;
  const launch: ForwarderLaunch = {
    socket: socketPath,
    cwd: ctl,
    argv: [process.execPath, '-e', script],
    env: { GW: 'http://127.0.0.1:{{PORT}}', KEY: g.token },
    events: join(ctl, 'events.jsonl'),
    stderr: join(ctl, 'stderr.log'),
  };
  writeFileSync(join(ctl, 'forwarder.cjs'), FORWARDER_SOURCE);
  writeFileSync(join(ctl, 'launch.json'), JSON.stringify(launch));
  const child = spawn(process.execPath, [join(ctl, 'forwarder.cjs')], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const [base, ok, bad] = JSON.parse(readFileSync(launch.events, 'utf8')) as [string, unknown, unknown];
  expect({ code, ok, bad, stderr: readFileSync(launch.stderr, 'utf8') }).toEqual({
    code: 0,
    ok: [200, true],
    bad: [401, false],
    stderr: '',
  });
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(JSON.parse(readFileSync(join(ctl, 'exit.json'), 'utf8'))).toEqual({ code: 0, signal: null });
  expect(g.ledger().calls).toHaveLength(1);
});

test('an SSE body parses as the events the clients read', () => {
  expect(parseSse('event: a\ndata: {"x":1}\n\n: comment\n\ndata: [DONE]\n\n')).toEqual([
    { event: 'a', data: '{"x":1}' },
    { data: '[DONE]' },
  ]);
});
