/**
 * OpenAI chat completions as the CLIs speak them (OpenCode, Qwen Code, aider): the request is
 * read strictly and rebuilt (only the fields the gateway understands go upstream, images become
 * a note), and the answer is sent back whole or as SSE chunks with `stream_options.include_usage`.
 */
import type OpenAI from 'openai';
import {
  argumentText,
  deltasOf,
  isObject,
  parametersOf,
  textOfParts,
  type Answer,
  type ChatRequest,
  type Parsed,
} from './wire';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

function messageOf(m: unknown, i: number): OpenAI.ChatCompletionMessageParam | string {
  if (!isObject(m)) return `messages[${i}] must be an object with a "role"`;
  const role = m.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    return `messages[${i}].role must be one of ${ROLES.join(', ')}`;
  const text = textOfParts(m.content, ['text', 'input_text']);
  if (role === 'tool') {
    if (typeof m.tool_call_id !== 'string') return `messages[${i}] (tool) needs a string "tool_call_id"`;
    return { role: 'tool', tool_call_id: m.tool_call_id, content: text };
  }
  if (role === 'assistant') {
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
    const toolCalls: OpenAI.ChatCompletionMessageFunctionToolCall[] = [];
    for (const [j, c] of calls.entries()) {
      if (!isObject(c) || !isObject(c.function) || typeof c.function.name !== 'string' || typeof c.id !== 'string')
        return `messages[${i}].tool_calls[${j}] must be {id, type: "function", function: {name, arguments}}`;
      toolCalls.push({
        id: c.id,
        type: 'function',
        function: { name: c.function.name, arguments: argumentText(c.function.arguments) },
      });
    }
    return { role: 'assistant', content: text || null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  }
  return { role, content: text } as OpenAI.ChatCompletionMessageParam;
}

/** Function tools of a chat request (other tool kinds are left out), or a problem. */
function toolsOf(tools: unknown): OpenAI.ChatCompletionFunctionTool[] | string {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) return '"tools" must be an array';
  const out: OpenAI.ChatCompletionFunctionTool[] = [];
  for (const [i, t] of tools.entries()) {
    if (!isObject(t)) return `tools[${i}] must be an object`;
    if (t.type !== undefined && t.type !== 'function') continue;
    const fn = t.function;
    if (!isObject(fn) || typeof fn.name !== 'string' || fn.name === '')
      return `tools[${i}] must be {type: "function", function: {name, parameters}}`;
    out.push({
      type: 'function',
      function: {
        name: fn.name,
        ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
        parameters: parametersOf(fn.parameters),
      },
    });
  }
  return out;
}

/** The sampling settings every format may carry (only numbers and string lists pass). */
export function samplingOf(
  b: Record<string, unknown>,
  stop: unknown,
): Pick<ChatRequest, 'temperature' | 'top_p' | 'stop'> {
  const stops =
    typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s) => typeof s === 'string') : [];
  return {
    ...(typeof b.temperature === 'number' ? { temperature: b.temperature } : {}),
    ...(typeof b.top_p === 'number' ? { top_p: b.top_p } : {}),
    ...(stops.length > 0 ? { stop: stops.slice(0, 4) } : {}),
  };
}

/**
 * The tool fields of a translated request: the tools, and the choice and parallel setting only
 * when there are tools (providers refuse a tool_choice without tools). One place for all formats.
 */
export function toolFieldsOf(
  tools: NonNullable<ChatRequest['tools']>,
  choice: ChatRequest['tool_choice'] | undefined,
  parallel: unknown,
): Pick<ChatRequest, 'tools' | 'tool_choice' | 'parallel_tool_calls'> {
  if (tools.length === 0) return {};
  return {
    tools,
    ...(choice ? { tool_choice: choice } : {}),
    ...(typeof parallel === 'boolean' ? { parallel_tool_calls: parallel } : {}),
  };
}

/** Reads a chat-completions request body. */
export function parseChat(body: unknown): Parsed {
  if (!isObject(body)) return { ok: false, message: 'The request body must be a JSON object.' };
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return { ok: false, message: '"messages" must be a non-empty array of chat messages.' };
  const messages: OpenAI.ChatCompletionMessageParam[] = [];
  for (const [i, m] of body.messages.entries()) {
    const msg = messageOf(m, i);
    if (typeof msg === 'string') return { ok: false, message: msg };
    messages.push(msg);
  }
  const tools = toolsOf(body.tools);
  if (typeof tools === 'string') return { ok: false, message: tools };
  const choice = body.tool_choice;
  const toolChoice =
    choice === 'auto' || choice === 'none' || choice === 'required'
      ? choice
      : isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string'
        ? { type: 'function' as const, function: { name: choice.function.name } }
        : undefined;
  const opts = isObject(body.stream_options) ? body.stream_options : {};
  return {
    ok: true,
    model: typeof body.model === 'string' ? body.model : '',
    stream: body.stream === true,
    includeUsage: opts.include_usage === true,
    chat: {
      messages,
      ...toolFieldsOf(tools, toolChoice, body.parallel_tool_calls),
      ...samplingOf(body, body.stop),
    },
  };
}

function usageOf(a: Answer): OpenAI.CompletionUsage {
  return {
    prompt_tokens: a.usage.promptTokens,
    completion_tokens: a.usage.completionTokens,
    total_tokens: a.usage.promptTokens + a.usage.completionTokens,
    prompt_tokens_details: { cached_tokens: a.usage.cachedTokens },
    completion_tokens_details: { reasoning_tokens: a.usage.reasoningTokens },
  };
}

const wireCalls = (a: Answer) =>
  a.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));

/** The whole chat.completion object of an answer. */
export function chatCompletionOf(a: Answer): OpenAI.ChatCompletion {
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    choices: [
      {
        index: 0,
        logprobs: null,
        finish_reason: a.finish,
        message: {
          role: 'assistant',
          content: a.text || (a.toolCalls.length > 0 ? null : ''),
          refusal: null,
          ...(a.toolCalls.length > 0 ? { tool_calls: wireCalls(a) } : {}),
        },
      },
    ],
    usage: usageOf(a),
  };
}

/** The SSE `data:` payloads of a streamed answer, `[DONE]` last. */
export function chatChunksOf(a: Answer, includeUsage: boolean): string[] {
  const chunk = (delta: Record<string, unknown>, finish: Answer['finish'] | null) =>
    JSON.stringify({
      id: a.id,
      object: 'chat.completion.chunk',
      created: a.created,
      model: a.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const out = [chunk({ role: 'assistant', content: '' }, null)];
  for (const d of deltasOf(a.text)) out.push(chunk({ content: d }, null));
  for (const [index, c] of a.toolCalls.entries())
    out.push(
      chunk(
        { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }] },
        null,
      ),
    );
  out.push(chunk({}, a.finish));
  if (includeUsage)
    out.push(
      JSON.stringify({
        id: a.id,
        object: 'chat.completion.chunk',
        created: a.created,
        model: a.model,
        choices: [],
        usage: usageOf(a),
      }),
    );
  out.push('[DONE]');
  return out;
}

/** OpenAI's error body (chat completions and Responses share it). */
export function openAiError(message: string, type: string, code: string | null = null) {
  return { error: { message, type, code, param: null } };
}
