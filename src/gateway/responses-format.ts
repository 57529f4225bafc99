/**
 * The OpenAI Responses API as Codex speaks it, translated to and from chat completions:
 * `instructions` and system/developer items become system messages, `function_call` items the
 * assistant's tool calls, `function_call_output` items tool messages; `custom` tools (a free-text
 * input, e.g. Codex's apply_patch) travel as a function with one string parameter `input` and come
 * back as `custom_tool_call` items; reasoning items and hosted tools (web search...) are left out.
 * The answer goes back whole or as the SSE events Codex reads (response.created ...
 * response.completed with usage).
 */
import type OpenAI from 'openai';
import { samplingOf, toolFieldsOf } from './chat-format';
import { argumentText, deltasOf, isObject, parametersOf, textOfParts, type Answer, type Parsed } from './wire';

const TEXT_PARTS = ['input_text', 'output_text', 'text'];

/** Names of the `custom` tools of a request (their calls are answered as custom_tool_call items). */
export function customToolsOf(body: unknown): Set<string> {
  const tools = isObject(body) && Array.isArray(body.tools) ? body.tools : [];
  return new Set(
    tools
      .filter((t) => isObject(t) && t.type === 'custom' && typeof t.name === 'string')
      .map((t) => String((t as { name: string }).name)),
  );
}

function toolsOf(tools: unknown): OpenAI.ChatCompletionFunctionTool[] | string {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return '"tools" must be an array';
  const out: OpenAI.ChatCompletionFunctionTool[] = [];
  for (const [i, t] of tools.entries()) {
    if (!isObject(t)) return `tools[${i}] must be an object`;
    if (t.type !== 'function' && t.type !== 'custom') continue; // hosted tools: not offered upstream
    if (typeof t.name !== 'string' || t.name === '') return `tools[${i}] needs a "name"`;
    const description = typeof t.description === 'string' ? t.description : '';
    const parameters =
      t.type === 'custom'
        ? {
            type: 'object',
            properties: { input: { type: 'string', description: 'The raw input of the tool' } },
            required: ['input'],
          }
        : parametersOf(t.parameters);
    out.push({ type: 'function', function: { name: t.name, ...(description ? { description } : {}), parameters } });
  }
  return out;
}

/** The chat messages of a Responses `input` (a string or a list of items), or a problem. */
function messagesOf(input: unknown, instructions: unknown): OpenAI.ChatCompletionMessageParam[] | string {
  const out: OpenAI.ChatCompletionMessageParam[] = [];
  if (typeof instructions === 'string' && instructions !== '') out.push({ role: 'system', content: instructions });
  if (typeof input === 'string') return [...out, { role: 'user', content: input }];
  if (!Array.isArray(input)) return '"input" must be a string or an array of items';
  let assistant: OpenAI.ChatCompletionAssistantMessageParam | undefined;
  const calls = () => {
    if (!assistant) {
      assistant = { role: 'assistant', content: null, tool_calls: [] };
      out.push(assistant);
    }
    assistant.tool_calls ??= [];
    return assistant.tool_calls;
  };
  for (const [i, item] of input.entries()) {
    if (!isObject(item)) return `input[${i}] must be an object`;
    const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
    if (type === 'message') {
      const role = item.role;
      const text = textOfParts(item.content, TEXT_PARTS);
      if (role === 'assistant') {
        assistant = { role: 'assistant', content: text };
        out.push(assistant);
        continue;
      }
      assistant = undefined;
      if (role === 'system' || role === 'developer') out.push({ role: 'system', content: text });
      else if (role === 'user') out.push({ role: 'user', content: text });
      else return `input[${i}].role must be user, assistant, system or developer`;
    } else if (type === 'function_call' || type === 'custom_tool_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string')
        return `input[${i}] (${type}) needs a string "call_id" and "name"`;
      const args =
        type === 'custom_tool_call'
          ? JSON.stringify({ input: argumentText(item.input) })
          : argumentText(item.arguments);
      calls().push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: args } });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      if (typeof item.call_id !== 'string') return `input[${i}] (${type}) needs a string "call_id"`;
      const output = typeof item.output === 'string' ? item.output : textOfParts(item.output, TEXT_PARTS);
      out.push({ role: 'tool', tool_call_id: item.call_id, content: output });
      assistant = undefined;
    } else if (type === 'reasoning' || type === 'item_reference') {
      continue; // reasoning summaries and references are not sent upstream
    } else {
      return `input[${i}].type ${JSON.stringify(type)} is not supported by the Maestro gateway (message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, reasoning)`;
    }
  }
  return out;
}

/** Reads a Responses request body. */
export function parseResponses(body: unknown): Parsed {
  if (!isObject(body)) return { ok: false, message: 'The request body must be a JSON object.' };
  if (body.input === undefined) return { ok: false, message: '"input" is required (a string or an array of items).' };
  if (typeof body.previous_response_id === 'string')
    return {
      ok: false,
      message:
        'previous_response_id is not supported: the gateway stores no responses; send the whole conversation as input (store: false)',
    };
  const messages = messagesOf(body.input, body.instructions);
  if (typeof messages === 'string') return { ok: false, message: messages };
  if (messages.length === 0) return { ok: false, message: '"input" has no message to answer.' };
  const tools = toolsOf(body.tools);
  if (typeof tools === 'string') return { ok: false, message: tools };
  const c = body.tool_choice;
  const toolChoice =
    c === 'auto' || c === 'none' || c === 'required'
      ? c
      : isObject(c) && typeof c.name === 'string'
        ? { type: 'function' as const, function: { name: c.name } }
        : undefined;
  return {
    ok: true,
    model: typeof body.model === 'string' ? body.model : '',
    stream: body.stream === true,
    chat: {
      messages,
      ...toolFieldsOf(tools, toolChoice, body.parallel_tool_calls),
      ...samplingOf(body, undefined),
    },
  };
}

type Item = Record<string, unknown> & { type: string; id: string };

/** The output items of an answer (a message when there is text, then one item per call). */
function itemsOf(a: Answer, custom: Set<string>): Item[] {
  const items: Item[] = [];
  if (a.text !== '' || a.toolCalls.length === 0)
    items.push({
      type: 'message',
      id: `msg_${a.id}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: a.text, annotations: [] }],
    });
  for (const [i, c] of a.toolCalls.entries()) {
    const id = `fc_${a.id}_${i}`;
    if (custom.has(c.name)) {
      const parsed = argumentTextInput(c.arguments);
      items.push({ type: 'custom_tool_call', id, call_id: c.id, name: c.name, input: parsed, status: 'completed' });
    } else
      items.push({
        type: 'function_call',
        id,
        call_id: c.id,
        name: c.name,
        arguments: c.arguments,
        status: 'completed',
      });
  }
  return items;
}

/** A custom tool's raw input from the function arguments `{"input": ...}` it travelled as. */
function argumentTextInput(args: string): string {
  try {
    const v: unknown = JSON.parse(args);
    if (isObject(v) && typeof v.input === 'string') return v.input;
  } catch {
    // not JSON: the model wrote the input itself
  }
  return args;
}

/** The whole `response` object of an answer (`status` completed, or in_progress for response.created). */
export function responseOf(a: Answer, custom: Set<string>, status: 'completed' | 'in_progress' = 'completed') {
  const done = status === 'completed';
  return {
    id: `resp_${a.id}`,
    object: 'response',
    created_at: a.created,
    status: done && a.finish === 'length' ? 'incomplete' : status,
    ...(done && a.finish === 'length' ? { incomplete_details: { reason: 'max_output_tokens' } } : {}),
    error: null,
    model: a.model,
    output: done ? itemsOf(a, custom) : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: done
      ? {
          input_tokens: a.usage.promptTokens,
          input_tokens_details: { cached_tokens: a.usage.cachedTokens },
          output_tokens: a.usage.completionTokens,
          output_tokens_details: { reasoning_tokens: a.usage.reasoningTokens },
          total_tokens: a.usage.promptTokens + a.usage.completionTokens,
        }
      : null,
  };
}

/** The SSE events (name and data) of a streamed answer, as Codex and the openai SDK read them. */
export function responseEventsOf(a: Answer, custom: Set<string>): { event: string; data: Record<string, unknown> }[] {
  let seq = 0;
  const out: { event: string; data: Record<string, unknown> }[] = [];
  const emit = (type: string, data: Record<string, unknown>) =>
    out.push({ event: type, data: { type, sequence_number: seq++, ...data } });
  emit('response.created', { response: responseOf(a, custom, 'in_progress') });
  emit('response.in_progress', { response: responseOf(a, custom, 'in_progress') });
  for (const [output_index, item] of itemsOf(a, custom).entries()) {
    const item_id = item.id;
    if (item.type === 'message') {
      const text = a.text;
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      const part = { type: 'output_text', text: '', annotations: [] };
      emit('response.content_part.added', { item_id, output_index, content_index: 0, part });
      for (const delta of deltasOf(text))
        emit('response.output_text.delta', { item_id, output_index, content_index: 0, delta, logprobs: [] });
      emit('response.output_text.done', { item_id, output_index, content_index: 0, text, logprobs: [] });
      emit('response.content_part.done', { item_id, output_index, content_index: 0, part: { ...part, text } });
    } else if (item.type === 'function_call') {
      emit('response.output_item.added', { output_index, item: { ...item, arguments: '', status: 'in_progress' } });
      const args = String(item.arguments);
      for (const delta of deltasOf(args))
        emit('response.function_call_arguments.delta', { item_id, output_index, delta });
      emit('response.function_call_arguments.done', { item_id, output_index, arguments: args });
    } else {
      emit('response.output_item.added', { output_index, item: { ...item, input: '', status: 'in_progress' } });
      const input = String(item.input);
      for (const delta of deltasOf(input))
        emit('response.custom_tool_call_input.delta', { item_id, output_index, delta });
      emit('response.custom_tool_call_input.done', { item_id, output_index, input });
    }
    emit('response.output_item.done', { output_index, item });
  }
  emit(a.finish === 'length' ? 'response.incomplete' : 'response.completed', { response: responseOf(a, custom) });
  return out;
}
