/**
 * Provider quirks the simulated LLM can imitate, for what a real local engine here cannot show:
 * refusing `json_schema` or other structured-output modes with a 400, ignoring `tools` (answering
 * text as if none were offered, as servers without tool-call support do), refusing `max_tokens` or
 * `temperature` (OpenAI's reasoning models), refusing an output cap above the model's limit,
 * wrapping answers in prose and code fences, putting `reasoning_content` beside the answer, sending
 * no usage block, and refusing streaming or `stream_options`. Also reads which mode a
 * request used and where its schema is (response_format, a forced tool, or the prompt).
 */
import { isObject } from './http-util';
import { errorBody, type OpenAiErrorBody } from './openai-format';
import type { SimMessage, SimQuirk } from './types';

/** Every quirk the simulated server knows. */
export const SIM_QUIRKS: readonly SimQuirk[] = [
  'json-schema-refused',
  'json-object-refused',
  'tools-refused',
  'tools-ignored',
  'prose-wrapped',
  'reasoning-content',
  'no-usage',
  'max-tokens-refused',
  'temperature-refused',
  'small-output-limit',
  'stream-refused',
  'stream-options-refused',
];

/** The output cap a `small-output-limit` provider allows (below Maestro's default of 8192). */
export const SIM_OUTPUT_LIMIT = 4096;

/** Shorthands for common providers' combinations. */
export const QUIRK_ALIASES: Readonly<Record<string, readonly SimQuirk[]>> = {
  /** A server with JSON mode but neither json_schema nor tools. */
  'json-mode-only': ['json-schema-refused', 'tools-refused'],
  /** An OpenAI reasoning model: no max_tokens, no temperature, reasoning tokens in usage. */
  'reasoning-model': ['max-tokens-refused', 'temperature-refused', 'reasoning-content'],
};

/** Quirk names (aliases expanded); throws with the list of valid names on an unknown one. */
export function parseQuirks(names: readonly string[]): SimQuirk[] {
  const out = new Set<SimQuirk>();
  for (const raw of names.map((n) => n.trim()).filter(Boolean)) {
    const alias = QUIRK_ALIASES[raw];
    if (alias) alias.forEach((q) => out.add(q));
    else if ((SIM_QUIRKS as readonly string[]).includes(raw)) out.add(raw as SimQuirk);
    else
      throw new Error(
        `unknown quirk "${raw}": choose from ${[...SIM_QUIRKS, ...Object.keys(QUIRK_ALIASES)].join(', ')}`,
      );
  }
  return [...out];
}

/**
 * The request as a server that does not serve tools sees it (`tools-ignored`): `tools`,
 * `tool_choice` and `parallel_tool_calls` dropped in place, so it answers text. Other quirks: unchanged.
 */
export function withoutIgnoredTools(body: Record<string, unknown>, quirks: readonly SimQuirk[]): void {
  if (!quirks.includes('tools-ignored')) return;
  delete body.tools;
  delete body.tool_choice;
  delete body.parallel_tool_calls;
}

/** How a request asked for structured output, and the schema it carried. */
export interface RequestFormat {
  mode: 'json_schema' | 'json_object' | 'tool' | 'text';
  schemaName: string;
  schema: unknown;
}

/** The schema block Maestro puts into the system prompt in json_object and text modes. */
const PROMPT_SCHEMA = /JSON schema "([^"]+)":\n```json\n([\s\S]*?)\n```/;

/** Reads the mode and schema of a chat request body. */
export function requestFormat(body: Record<string, unknown>, messages: readonly SimMessage[]): RequestFormat {
  const format = isObject(body.response_format) ? body.response_format : {};
  if (format.type === 'json_schema') {
    const js = isObject(format.json_schema) ? format.json_schema : {};
    return { mode: 'json_schema', schemaName: typeof js.name === 'string' ? js.name : '', schema: js.schema };
  }
  const tool: unknown = Array.isArray(body.tools) ? body.tools[0] : undefined;
  const fn = isObject(tool) && isObject(tool.function) ? tool.function : undefined;
  if (fn && body.tool_choice !== undefined && body.tool_choice !== 'none' && body.tool_choice !== 'auto')
    return { mode: 'tool', schemaName: typeof fn.name === 'string' ? fn.name : '', schema: fn.parameters };
  const mode = format.type === 'json_object' ? 'json_object' : 'text';
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const found = PROMPT_SCHEMA.exec(system);
  let schema: unknown;
  try {
    schema = found?.[2] ? JSON.parse(found[2]) : undefined;
  } catch {
    schema = undefined;
  }
  return { mode, schemaName: found?.[1] ?? '', schema };
}

const unsupported = (message: string, param: string, code = 'unsupported_parameter'): OpenAiErrorBody =>
  errorBody(message, 'invalid_request_error', code, param);

/** The 400 a quirky provider answers to this request, in the words real providers use. */
export function quirkRefusal(
  body: Record<string, unknown>,
  format: RequestFormat,
  quirks: readonly SimQuirk[],
): OpenAiErrorBody | undefined {
  const has = (q: SimQuirk) => quirks.includes(q);
  if (has('stream-refused') && body.stream === true)
    return unsupported('Streaming is not supported by this server: send the request without "stream": true.', 'stream');
  if (has('stream-options-refused') && body.stream_options !== undefined)
    return unsupported("Unrecognized request argument supplied: 'stream_options'.", 'stream_options');
  if (has('max-tokens-refused') && body.max_tokens !== undefined)
    return unsupported(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      'max_tokens',
    );
  // A model with a small output limit refuses a larger cap, in OpenAI's words.
  for (const param of ['max_tokens', 'max_completion_tokens'] as const) {
    const asked = body[param];
    if (has('small-output-limit') && typeof asked === 'number' && asked > SIM_OUTPUT_LIMIT)
      return errorBody(
        `${param} is too large: ${asked}. This model supports at most ${SIM_OUTPUT_LIMIT} completion tokens, whereas you provided ${asked}.`,
        'invalid_request_error',
        'invalid_value',
        param,
      );
  }
  if (has('temperature-refused') && body.temperature !== undefined && body.temperature !== 1)
    return unsupported(
      `Unsupported value: 'temperature' does not support ${JSON.stringify(body.temperature)} with this model. Only the default (1) value is supported.`,
      'temperature',
      'unsupported_value',
    );
  if (has('json-schema-refused') && format.mode === 'json_schema')
    return unsupported(
      "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
      'response_format',
    );
  if (has('json-object-refused') && format.mode === 'json_object')
    return unsupported(
      "Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.",
      'response_format',
    );
  if (has('tools-refused') && body.tools !== undefined)
    return unsupported('This model does not support tools (function calling is not supported).', 'tools');
  return undefined;
}

/** The reasoning text of the `reasoning-content` quirk (its tokens are billed as output). */
export const SIM_REASONING = 'Let me think step by step about what the request needs before I answer. ';

/** The answer as a quirky provider shapes it: content or a tool call, perhaps prose and reasoning. */
export function shapeAnswer(
  text: string,
  format: RequestFormat,
  quirks: readonly SimQuirk[],
): { content: string | null; toolCall?: { name: string; arguments: string }; reasoning?: string } {
  const reasoning = quirks.includes('reasoning-content') ? { reasoning: SIM_REASONING.repeat(4) } : {};
  if (format.mode === 'tool')
    return { content: null, toolCall: { name: format.schemaName, arguments: text }, ...reasoning };
  if (quirks.includes('prose-wrapped'))
    return {
      content: `Sure! Here is the result:\n\n\`\`\`json\n${text}\n\`\`\`\n\nLet me know if you need changes.`,
      ...reasoning,
    };
  if (format.mode === 'text') return { content: `\`\`\`json\n${text}\n\`\`\``, ...reasoning };
  return { content: text, ...reasoning };
}
