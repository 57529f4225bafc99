/**
 * Anthropic Messages as Claude Code speaks it, translated to and from chat completions: `system`
 * (a string or text blocks) becomes a system message, `tool_use` blocks the assistant's tool calls,
 * `tool_result` blocks tool messages (before the rest of their user turn), client tools with
 * `input_schema` function tools; thinking blocks and server tools are left out, images become a
 * note. The answer goes back whole or as the SSE events of the Messages API (message_start,
 * content_block_start/delta/stop with text_delta or input_json_delta, message_delta with usage,
 * message_stop).
 */
import type OpenAI from 'openai';
import { samplingOf, toolFieldsOf } from './chat-format';
import { argumentObject, deltasOf, isObject, parametersOf, textOfParts, type Answer, type Parsed } from './wire';

const TEXT = ['text'];

function blocksOf(content: unknown): unknown[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
}

/** The chat messages of one Anthropic message, or a problem. */
function translate(m: unknown, i: number): OpenAI.ChatCompletionMessageParam[] | string {
  if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system'))
    return `messages[${i}] must be {role: "user" | "assistant" | "system", content}`;
  if (typeof m.content !== 'string' && !Array.isArray(m.content))
    return `messages[${i}].content must be a string or an array of content blocks`;
  // Newer models take system messages between the turns (Claude Code sends its environment so).
  if (m.role === 'system') return [{ role: 'system', content: textOfParts(m.content, TEXT) }];
  const blocks = blocksOf(m.content);
  if (m.role === 'assistant') {
    const calls: OpenAI.ChatCompletionMessageFunctionToolCall[] = [];
    for (const [j, b] of blocks.entries()) {
      if (!isObject(b) || b.type !== 'tool_use') continue;
      if (typeof b.id !== 'string' || typeof b.name !== 'string')
        return `messages[${i}].content[${j}] (tool_use) needs a string "id" and "name"`;
      calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    }
    const text = textOfParts(
      blocks.filter((b) => isObject(b) && b.type === 'text'),
      TEXT,
    );
    return [{ role: 'assistant', content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
  }
  const out: OpenAI.ChatCompletionMessageParam[] = [];
  const rest: unknown[] = [];
  for (const [j, b] of blocks.entries()) {
    if (isObject(b) && b.type === 'tool_result') {
      if (typeof b.tool_use_id !== 'string') return `messages[${i}].content[${j}] (tool_result) needs "tool_use_id"`;
      const text = textOfParts(b.content, TEXT);
      out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: b.is_error === true ? `ERROR: ${text}` : text });
    } else rest.push(b);
  }
  const text = textOfParts(rest, TEXT);
  if (text !== '' || out.length === 0) out.push({ role: 'user', content: text });
  return out;
}

function toolsOf(tools: unknown): OpenAI.ChatCompletionFunctionTool[] | string {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return '"tools" must be an array';
  const out: OpenAI.ChatCompletionFunctionTool[] = [];
  for (const [i, t] of tools.entries()) {
    if (!isObject(t) || typeof t.name !== 'string' || t.name === '') return `tools[${i}] needs a "name"`;
    if (t.type !== undefined && t.type !== 'custom') continue; // server tools (web search, bash...) are not offered
    out.push({
      type: 'function',
      function: {
        name: t.name,
        ...(typeof t.description === 'string' ? { description: t.description } : {}),
        parameters: parametersOf(t.input_schema),
      },
    });
  }
  return out;
}

function toolChoiceOf(c: unknown): OpenAI.ChatCompletionToolChoiceOption | undefined {
  if (!isObject(c)) return undefined;
  if (c.type === 'auto') return 'auto';
  if (c.type === 'any') return 'required';
  if (c.type === 'none') return 'none';
  if (c.type === 'tool' && typeof c.name === 'string') return { type: 'function', function: { name: c.name } };
  return undefined;
}

/** Reads a Messages request body. */
export function parseAnthropic(body: unknown): Parsed {
  if (!isObject(body)) return { ok: false, message: 'The request body must be a JSON object.' };
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return { ok: false, message: 'messages: must be a non-empty array of {role, content}.' };
  const system = textOfParts(body.system, TEXT);
  const messages: OpenAI.ChatCompletionMessageParam[] = system ? [{ role: 'system', content: system }] : [];
  for (const [i, m] of body.messages.entries()) {
    const got = translate(m, i);
    if (typeof got === 'string') return { ok: false, message: got };
    messages.push(...got);
  }
  const tools = toolsOf(body.tools);
  if (typeof tools === 'string') return { ok: false, message: tools };
  const choice = toolChoiceOf(body.tool_choice);
  const parallel = isObject(body.tool_choice) && body.tool_choice.disable_parallel_tool_use === true;
  return {
    ok: true,
    model: typeof body.model === 'string' ? body.model : '',
    stream: body.stream === true,
    chat: {
      messages,
      // Anthropic's disable_parallel_tool_use only ever turns parallel calls off.
      ...toolFieldsOf(tools, choice, parallel ? false : undefined),
      ...samplingOf(body, body.stop_sequences),
    },
  };
}

const STOP: Record<Answer['finish'], string> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

function usageOf(a: Answer) {
  return {
    input_tokens: Math.max(0, a.usage.promptTokens - a.usage.cachedTokens),
    cache_read_input_tokens: a.usage.cachedTokens,
    cache_creation_input_tokens: 0,
    output_tokens: a.usage.completionTokens,
  };
}

function blocksOfAnswer(a: Answer) {
  return [
    ...(a.text !== '' || a.toolCalls.length === 0 ? [{ type: 'text' as const, text: a.text }] : []),
    ...a.toolCalls.map((c) => ({
      type: 'tool_use' as const,
      id: c.id,
      name: c.name,
      input: argumentObject(c.arguments),
    })),
  ];
}

/** The whole Messages reply of an answer. */
export function anthropicMessageOf(a: Answer) {
  return {
    id: `msg_${a.id}`,
    type: 'message',
    role: 'assistant',
    model: a.model,
    content: blocksOfAnswer(a),
    stop_reason: STOP[a.finish],
    stop_sequence: null,
    usage: usageOf(a),
  };
}

/** The SSE events (name and data) of a streamed answer. */
export function anthropicEventsOf(a: Answer): { event: string; data: Record<string, unknown> }[] {
  const out: { event: string; data: Record<string, unknown> }[] = [];
  const emit = (type: string, data: Record<string, unknown> = {}) => out.push({ event: type, data: { type, ...data } });
  const start = {
    ...anthropicMessageOf(a),
    content: [],
    stop_reason: null,
    usage: { ...usageOf(a), output_tokens: 0 },
  };
  emit('message_start', { message: start });
  emit('ping');
  for (const [index, b] of blocksOfAnswer(a).entries()) {
    if (b.type === 'text') {
      emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const text of deltasOf(b.text)) emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      emit('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      for (const partial_json of deltasOf(JSON.stringify(b.input)))
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
    }
    emit('content_block_stop', { index });
  }
  emit('message_delta', { delta: { stop_reason: STOP[a.finish], stop_sequence: null }, usage: usageOf(a) });
  emit('message_stop');
  return out;
}

/** Anthropic's error body; `type` as the API names it (invalid_request_error, authentication_error...). */
export function anthropicError(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}
