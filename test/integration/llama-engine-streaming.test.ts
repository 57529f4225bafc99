/**
 * The real llama.cpp engine streams: Maestro's own streaming client (stream-call.ts) against the
 * engine process (`npm run llama-engine`, SmolLM2, one thread) gets content deltas as the model
 * generates them with live progress, a tool call (sent as one delta at the end, after keep-alive
 * deltas while the grammar's JSON is generated), and the usage of the final chunk.
 */
import OpenAI from 'openai';
import { streamCompletion, type LlmProgress } from '../../src/activities/llm/stream-call';
import { callTokensOf } from '../../src/activities/llm/usage-of';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';

jest.setTimeout(240_000);

let engine: EngineProcess;
let client: OpenAI;
beforeAll(async () => {
  engine = await startEngineProcess({ args: ['--max-tokens', '64'] });
  client = new OpenAI({ baseURL: engine.baseUrl, apiKey: 'none', maxRetries: 0 });
});
afterAll(async () => {
  await engine?.stop();
});

const streamOpts = (onProgress?: (p: LlmProgress) => void) => ({
  signal: new AbortController().signal,
  timeoutMs: 120_000,
  idleMs: 30_000,
  support: 'full' as const,
  ...(onProgress ? { onProgress } : {}),
});

describe('the llama engine streams', () => {
  it('streams content as it is generated, with progress and the usage of the final chunk', async () => {
    const progress: LlmProgress[] = [];
    const { completion, tokens } = await streamCompletion(
      client,
      {
        model: 'smollm',
        temperature: 0,
        max_tokens: 40,
        messages: [{ role: 'user', content: 'Write three sentences about the sea.' }],
      },
      streamOpts((p) => progress.push(p)),
    );
    const text = completion.choices[0]!.message.content ?? '';
    expect(text.length).toBeGreaterThan(10);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(tokens).toBe(completion.usage!.completion_tokens);
    const usage = callTokensOf(completion, () => 0);
    expect(usage.estimated).toBe(false);
    // One report per second at most while streaming, and the last when the answer is complete.
    expect(progress.at(-1)!.tokens).toBe(tokens);
  });

  it('streams a tool call (as one delta at the end) and its usage', async () => {
    const { completion } = await streamCompletion(
      client,
      {
        model: 'smollm',
        temperature: 0,
        messages: [{ role: 'user', content: 'What is the weather in Paris? Use the tool.' }],
        tools: [
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
        ],
        tool_choice: 'required',
      },
      streamOpts(),
    );
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const calls = choice.message.tool_calls ?? [];
    expect(calls.length).toBeGreaterThanOrEqual(1);
    const call = calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('get_weather');
    expect(call.id.length).toBeGreaterThan(0);
    expect(JSON.parse(call.function.arguments)).toEqual({ city: expect.any(String) });
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });
});
