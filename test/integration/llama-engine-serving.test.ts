/**
 * The llama.cpp engine (`npm run llama-engine`) as agents meet it: tool calls under every
 * `tool_choice` (grammar-constrained, OpenAI's shape), the real name of the model file it loaded,
 * concurrent requests on parallel sequences with a bounded queue and an honest 503, a default
 * output cap reported as a cut-off, and one log line per request. One engine process, one thread,
 * two sequences, a queue of one, a default cap of 48 tokens, over a renamed copy of the test model.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';

jest.setTimeout(240_000);

const MODEL_FILE = path.resolve(__dirname, '..', '..', '.maestro', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');
let engine: EngineProcess;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'llama-model-'));
  const renamed = path.join(dir, 'Tiny-Chat.Q4_1.gguf');
  symlinkSync(MODEL_FILE, renamed);
  engine = await startEngineProcess({
    args: ['--parallel', '2', '--queue', '1', '--max-tokens', '48'],
    env: { MAESTRO_LLAMA_MODEL: renamed },
  });
});
afterAll(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Msg = Record<string, unknown>;
interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}
interface Completion {
  model: string;
  choices: { message: { role: string; content: string | null; tool_calls?: ToolCall[] }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number };
  error?: { message: string };
}

async function chat(body: Record<string, unknown>): Promise<{ status: number; headers: Headers; json: Completion }> {
  const res = await fetch(`${engine.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'whatever-the-client-says', temperature: 0, ...body }),
    signal: AbortSignal.timeout(90_000),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Completion };
}

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The current weather in a city.',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Adds two numbers.',
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
        additionalProperties: false,
      },
    },
  },
];
const FINAL = {
  type: 'json_schema',
  json_schema: {
    name: 'final',
    strict: true,
    schema: {
      type: 'object',
      properties: { summary: { type: 'string' } },
      required: ['summary'],
      additionalProperties: false,
    },
  },
};
const ASK: Msg[] = [
  { role: 'system', content: 'You are a helpful assistant. Use the tools when they help.' },
  { role: 'user', content: 'What is the weather in Paris right now?' },
];

/** Every call is well-formed: an id, a known tool, arguments that parse and match its schema. */
function expectWellFormed(calls: ToolCall[]): void {
  expect(calls.length).toBeGreaterThan(0);
  expect(new Set(calls.map((c) => c.id)).size).toBe(calls.length);
  for (const call of calls) {
    expect(call.id).toMatch(/^call_[A-Za-z0-9]+$/);
    expect(call.type).toBe('function');
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    if (call.function.name === 'get_weather') {
      expect(Object.keys(args)).toEqual(['city']);
      expect(typeof args.city).toBe('string');
    } else {
      expect(call.function.name).toBe('add');
      expect(Object.keys(args).sort()).toEqual(['a', 'b']);
      expect(typeof args.a).toBe('number');
      expect(typeof args.b).toBe('number');
    }
  }
}

/** An answer under `auto`: tool calls (finish "tool_calls") or a text message, nothing else. */
function expectToolCallsOrText(json: Completion): void {
  const [choice] = json.choices;
  if (choice!.message.tool_calls) {
    expect(choice!.finish_reason).toBe('tool_calls');
    expect(choice!.message.content).toBeNull();
    expectWellFormed(choice!.message.tool_calls);
  } else {
    expect(['stop', 'length']).toContain(choice!.finish_reason);
    expect(typeof choice!.message.content).toBe('string');
    expect(choice!.message.content).not.toContain('<tool_call>');
  }
}

describe('the llama.cpp engine serves agents', () => {
  it('reports the model file it loaded, in answers and in /v1/models', async () => {
    const models = (await (await fetch(`${engine.baseUrl}/models`)).json()) as {
      data: { id: string; meta?: Record<string, unknown> }[];
    };
    expect(models.data).toHaveLength(1);
    expect(models.data[0]!.id).toBe('tiny-chat');
    // The GGUF's own metadata rides along for doctor output.
    expect(models.data[0]!.meta).toMatchObject({ name: 'Smollm2 135M 8k Lc100K Mix1 Ep2', architecture: 'llama' });
    const { status, json } = await chat({ messages: ASK, max_tokens: 4 });
    expect(status).toBe(200);
    expect(json.model).toBe('tiny-chat');
  });

  it('tool_choice auto with two tools answers a well-formed call or text; the next turn with its result works', async () => {
    // As Maestro's agents ask: tools, no tool_choice (auto) and the final answer's schema.
    const agentTurn = (messages: Msg[]) => chat({ messages, tools: TOOLS, response_format: FINAL, max_tokens: 64 });
    const first = await agentTurn(ASK);
    expect(first.status).toBe(200);
    expectToolCallsOrText(first.json);
    // Greedy decoding of this prompt calls the weather tool: the model saw the tools.
    const calls = first.json.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => c.function.name)).toEqual(['get_weather']);
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual({ city: 'Paris' });
    const next = await agentTurn([
      ...ASK,
      first.json.choices[0]!.message,
      ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '{"weather":"sunny, 21 C"}' })),
    ]);
    expect(next.status).toBe(200);
    expectToolCallsOrText(next.json);
    const { content } = next.json.choices[0]!.message;
    if (content !== null && next.json.choices[0]!.finish_reason === 'stop')
      expect(Object.keys(JSON.parse(content) as object)).toEqual(['summary']);

    // Without a response format the alternative to a call is plain text, never a broken call.
    const plain = await chat({ messages: ASK, tools: TOOLS, tool_choice: 'auto', max_tokens: 32 });
    expect(plain.status).toBe(200);
    expectToolCallsOrText(plain.json);
  });

  it('tool_choice required and a named function always get well-formed calls of the allowed tools', async () => {
    const required = await chat({
      messages: [{ role: 'user', content: 'Add 2 and 3.' }],
      tools: TOOLS,
      tool_choice: 'required',
      max_tokens: 64,
    });
    expect(required.status).toBe(200);
    expect(required.json.choices[0]!.finish_reason).toBe('tool_calls');
    expectWellFormed(required.json.choices[0]!.message.tool_calls!);

    // The second tool by name, one call only: the engine used to answer with the first tool.
    const named = await chat({
      messages: ASK,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'add' } },
      parallel_tool_calls: false,
      max_tokens: 64,
    });
    expect(named.status).toBe(200);
    expect(named.json.choices[0]!.finish_reason).toBe('tool_calls');
    const calls = named.json.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => c.function.name)).toEqual(['add']);
    expectWellFormed(calls);
  });

  it('a tool call cut off by the cap is reported as a cut-off, never as a malformed call', async () => {
    const { status, json } = await chat({
      messages: ASK,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 5,
    });
    expect(status).toBe(200);
    expect(json.choices[0]!.finish_reason).toBe('length');
    expect(json.choices[0]!.message.tool_calls).toBeUndefined();
    expect(json.usage.completion_tokens).toBe(5);
  });

  it('bad tool requests get a 400 that says what to fix', async () => {
    const unknown = await chat({
      messages: ASK,
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error!.message).toContain('"nope"');
    const noTools = await chat({ messages: ASK, tool_choice: 'required' });
    expect(noTools.status).toBe(400);
    expect(noTools.json.error!.message).toContain('tools');
    const nameless = await chat({ messages: ASK, tools: [{ type: 'function', function: { parameters: {} } }] });
    expect(nameless.status).toBe(400);
    expect(nameless.json.error!.message).toContain('tools[0].function.name');
  });

  it('serves two requests at once, queues a third and answers a fourth 503 with retry-after', async () => {
    const ask = (i: number) => chat({ messages: [{ role: 'user', content: `Count to ${i + 3}.` }], max_tokens: 24 });
    const answers = await Promise.all([0, 1, 2, 3].map(ask));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 503]);
    const busy = answers.find((a) => a.status === 503)!;
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(busy.json.error!.message).toMatch(/busy.*2 requests running and 1 waiting/);
    for (const a of answers.filter((x) => x.status === 200)) expect(a.json.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('a request whose client went away frees its sequence for the next ones', async () => {
    const gone = fetch(`${engine.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Write a long story.' }], max_tokens: 400 }),
      signal: AbortSignal.timeout(1500),
    });
    await expect(gone).rejects.toThrow();
    const after = await Promise.all(
      [0, 1].map(() => chat({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 })),
    );
    expect(after.map((a) => a.status)).toEqual([200, 200]);
  });

  it('caps an answer that asks for no limit at the default, reports "length", and logs each request', async () => {
    const { status, json } = await chat({
      messages: [{ role: 'user', content: 'Write a long story about a dragon who bakes bread, in ten chapters.' }],
    });
    expect(status).toBe(200);
    expect(json.usage.completion_tokens).toBe(48);
    expect(json.choices[0]!.finish_reason).toBe('length');
    const line = engine
      .stderr()
      .split('\n')
      .find((l) => l.includes('completion_tokens=48'));
    expect(line).toMatch(
      /^llama-engine: POST \/v1\/chat\/completions model=tiny-chat prompt_tokens=\d+ completion_tokens=48 tokens_per_s=\d+(\.\d+)? finish=length ms=\d+$/,
    );
  });
});
