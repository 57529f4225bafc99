/**
 * The gateway's translations on their own: each format's request becomes the chat messages a
 * provider understands (tool calls and results paired, system text first, images noted, thinking
 * left out), each answer becomes the format's reply or events that reassemble into the same
 * calls, and the request log rebuilds every request from its deltas, bounded.
 */
import { parseAnthropic, anthropicEventsOf, anthropicMessageOf } from '../../src/gateway/anthropic-format';
import { chatChunksOf, parseChat } from '../../src/gateway/chat-format';
import { parseResponses, responseEventsOf } from '../../src/gateway/responses-format';
import { RequestLog, parseRequestLog } from '../../src/gateway/request-log';
import { DROPPED_PART, leadingSystem, type Answer } from '../../src/gateway/wire';

const answer = (over: Partial<Answer> = {}): Answer => ({
  id: 'a1',
  model: 'cli-model',
  text: '',
  toolCalls: [],
  finish: 'stop',
  usage: { promptTokens: 100, cachedTokens: 40, completionTokens: 7, reasoningTokens: 0 },
  created: 1,
  ...over,
});

test('Anthropic: system blocks, tool_use and tool_result (before the rest of the turn), errors, images and thinking', () => {
  const parsed = parseAnthropic({
    model: 'claude',
    system: [{ type: 'text', text: 'Be careful.' }],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image', source: { type: 'base64', data: 'AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'secret reasoning', signature: 's' },
          { type: 'text', text: 'Reading.' },
          { type: 'tool_use', id: 't1', name: 'Read', input: { file_path: 'a' } },
          { type: 'tool_use', id: 't2', name: 'Read', input: { file_path: 'b' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: 'A' },
          { type: 'tool_result', tool_use_id: 't2', content: [{ type: 'text', text: 'no such file' }], is_error: true },
          { type: 'text', text: 'Go on' },
        ],
      },
    ],
    tools: [
      { name: 'Read', input_schema: { type: 'object' } },
      { type: 'web_search_20250305', name: 'web_search' },
    ],
    tool_choice: { type: 'any' },
    stop_sequences: ['STOP'],
  });
  if (!parsed.ok) throw new Error(parsed.message);
  expect(parsed.chat.messages).toEqual([
    { role: 'system', content: 'Be careful.' },
    { role: 'user', content: `Look\n${DROPPED_PART}` },
    {
      role: 'assistant',
      content: 'Reading.',
      tool_calls: [
        { id: 't1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"a"}' } },
        { id: 't2', type: 'function', function: { name: 'Read', arguments: '{"file_path":"b"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 't1', content: 'A' },
    { role: 'tool', tool_call_id: 't2', content: 'ERROR: no such file' },
    { role: 'user', content: 'Go on' },
  ]);
  expect(parsed.chat.tools?.map((t) => t.function.name)).toEqual(['Read']);
  expect(parsed.chat.tool_choice).toBe('required');
  expect(parsed.chat.stop).toEqual(['STOP']);
});

test('Anthropic answer: tool input from junk arguments is an object; usage splits cached input; events reassemble the reply', () => {
  const a = answer({
    text: 'Done.',
    finish: 'tool_calls',
    toolCalls: [
      { id: 'c1', name: 'Write', arguments: '{"file_path":"x","content":"é\\n"}' },
      { id: 'c2', name: 'Bash', arguments: 'not json' },
    ],
  });
  const whole = anthropicMessageOf(a);
  expect(whole.content).toEqual([
    { type: 'text', text: 'Done.' },
    { type: 'tool_use', id: 'c1', name: 'Write', input: { file_path: 'x', content: 'é\n' } },
    { type: 'tool_use', id: 'c2', name: 'Bash', input: {} },
  ]);
  expect(whole.usage).toEqual({
    input_tokens: 60,
    cache_read_input_tokens: 40,
    cache_creation_input_tokens: 0,
    output_tokens: 7,
  });
  expect(whole.stop_reason).toBe('tool_use');
  // Rebuild the message from the events the way a client does.
  const blocks: Record<string, unknown>[] = [];
  const json: string[] = [];
  for (const { data } of anthropicEventsOf(a)) {
    if (data.type === 'content_block_start') blocks[data.index as number] = { ...(data.content_block as object) };
    if (data.type === 'content_block_delta') {
      const d = data.delta as { type: string; text?: string; partial_json?: string };
      const b = blocks[data.index as number]!;
      if (d.type === 'text_delta') b.text = `${String(b.text)}${d.text}`;
      else json[data.index as number] = (json[data.index as number] ?? '') + d.partial_json;
    }
  }
  json.forEach((j, i) => (blocks[i]!.input = JSON.parse(j)));
  expect(blocks).toEqual(whole.content);
});

test('Responses: instructions, developer text, function calls merged into one assistant turn, outputs, custom tools, reasoning left out', () => {
  const parsed = parseResponses({
    model: 'gpt-5-codex',
    instructions: 'You are Codex.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Sandbox: none.' }] },
      { role: 'user', content: 'Fix it' },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Looking.' }] },
      { type: 'function_call', call_id: 'f1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
      { type: 'custom_tool_call', call_id: 'f2', name: 'apply_patch', input: '*** Begin Patch' },
      { type: 'function_call_output', call_id: 'f1', output: 'a.txt' },
      { type: 'custom_tool_call_output', call_id: 'f2', output: 'Done!' },
    ],
    tools: [
      { type: 'function', name: 'exec_command', parameters: { type: 'object' } },
      { type: 'custom', name: 'apply_patch', format: { type: 'grammar' } },
      { type: 'web_search' },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.message);
  expect(leadingSystem(parsed.chat.messages)).toEqual([
    { role: 'system', content: 'You are Codex.\n\nSandbox: none.' },
    { role: 'user', content: 'Fix it' },
    {
      role: 'assistant',
      content: 'Looking.',
      tool_calls: [
        { id: 'f1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } },
        { id: 'f2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'f1', content: 'a.txt' },
    { role: 'tool', tool_call_id: 'f2', content: 'Done!' },
  ]);
  expect(parsed.chat.tools?.map((t) => t.function.name)).toEqual(['exec_command', 'apply_patch']);
});

test('Responses events: numbered in order, arguments reassemble, a cut-off answer ends incomplete', () => {
  const long = JSON.stringify({ cmd: 'x'.repeat(1000) });
  const events = responseEventsOf(
    answer({ text: 'Hi', finish: 'tool_calls', toolCalls: [{ id: 'f1', name: 'exec_command', arguments: long }] }),
    new Set(),
  );
  expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  const args = events
    .filter((e) => e.event === 'response.function_call_arguments.delta')
    .map((e) => e.data.delta as string);
  expect(args.length).toBeGreaterThan(1);
  expect(args.join('')).toBe(long);
  const cut = responseEventsOf(answer({ text: 'Hal', finish: 'length' }), new Set());
  expect(cut[cut.length - 1]).toMatchObject({
    event: 'response.incomplete',
    data: { response: { status: 'incomplete' } },
  });
});

test('chat completions: image parts noted, unknown fields dropped, chunks carry usage last when asked', () => {
  const parsed = parseChat({
    model: 'm',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'see' },
          { type: 'image_url', image_url: { url: 'data:' } },
        ],
      },
    ],
    tools: [{ type: 'function', function: { name: 'write', parameters: { type: 'object' } } }],
    tool_choice: { type: 'function', function: { name: 'write' } },
    n: 5,
    logit_bias: { 1: 100 },
    stream: true,
    stream_options: { include_usage: true },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  expect(parsed.chat).toEqual({
    messages: [{ role: 'user', content: `see\n${DROPPED_PART}` }],
    tools: [{ type: 'function', function: { name: 'write', parameters: { type: 'object' } } }],
    tool_choice: { type: 'function', function: { name: 'write' } },
  });
  expect(parsed.includeUsage).toBe(true);
  const chunks = chatChunksOf(answer({ text: 'ok' }), true);
  expect(chunks[chunks.length - 1]).toBe('[DONE]');
  expect(JSON.parse(chunks[chunks.length - 2]!)).toMatchObject({
    choices: [],
    usage: { prompt_tokens: 100, completion_tokens: 7 },
  });
  expect(chatChunksOf(answer({ text: 'ok' }), false).some((c) => c.includes('"usage"'))).toBe(false);
});

test('the request log stores deltas against the closest earlier request and rebuilds every request; it stops at its bound', () => {
  const log = new RequestLog(undefined, 10_000);
  const sys = { role: 'system' as const, content: 'S'.repeat(500) };
  const main1 = [sys, { role: 'user' as const, content: 'task' }];
  const side = [{ role: 'user' as const, content: 'title please' }];
  const main2 = [
    ...main1,
    { role: 'assistant' as const, content: 'done part 1' },
    { role: 'user' as const, content: 'go on' },
  ];
  log.append(1, 'anthropic', 'c', main1);
  log.append(2, 'anthropic', 'c', side);
  log.append(3, 'anthropic', 'c', main2);
  const lines = log.text().trim().split('\n');
  expect(lines[2]).not.toContain('SSSS');
  expect(JSON.parse(lines[2]!)).toMatchObject({ base: 1, from: 2 });
  const rebuilt = parseRequestLog(log.text());
  expect(rebuilt.requests.map((r) => r.messages.map((m) => m.content))).toEqual(
    [main1, side, main2].map((ms) => ms.map((m) => m.content)),
  );
  for (let i = 4; i < 40; i++) log.append(i, 'chat', 'm', [{ role: 'user', content: `fresh ${i} ${'x'.repeat(400)}` }]);
  const after = parseRequestLog(log.text());
  expect(after.truncated).toBe(true);
  expect(Buffer.byteLength(log.text())).toBeLessThan(10_000 + 200);
  expect(log.dropped).toBeGreaterThan(0);
  expect(after.requests.length + log.dropped).toBe(39);
});
