/**
 * What the gateway's three wire formats share: the chat-completions request every format is
 * translated into (the one shape the upstream provider is sent), the answer every format is built
 * from, and the small readers of untrusted JSON the translators use. A CLI's request is hostile
 * input: every reader here returns a clear problem instead of throwing.
 */
import type OpenAI from 'openai';

/** The upstream request a CLI's call becomes: chat completions, never streamed upstream. */
export interface ChatRequest {
  messages: OpenAI.ChatCompletionMessageParam[];
  tools?: OpenAI.ChatCompletionFunctionTool[];
  tool_choice?: OpenAI.ChatCompletionToolChoiceOption;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  /** Parallel tool calls allowed (absent: the provider's default). */
  parallel_tool_calls?: boolean;
}

/** One tool call of an answer, arguments as JSON text. */
export interface AnswerCall {
  id: string;
  name: string;
  arguments: string;
}

/** The provider's answer, normalised, that each format turns into its own reply. */
export interface Answer {
  id: string;
  /** Echoed back to the CLI: the model it asked for (the role's model answered). */
  model: string;
  text: string;
  toolCalls: AnswerCall[];
  finish: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage: { promptTokens: number; cachedTokens: number; completionTokens: number; reasoningTokens: number };
  created: number;
}

/** A translated request, or why it cannot be. */
export type Parsed =
  | {
      ok: true;
      chat: ChatRequest;
      stream: boolean;
      /** The model name the CLI asked for (echoed back). */
      model: string;
      /** Chat completions only: `stream_options.include_usage`. */
      includeUsage?: boolean;
    }
  | { ok: false; message: string };

/** Whether a value is a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text put where an image (or other non-text part) was: the provider is sent text only. */
export const DROPPED_PART = '[image omitted: the Maestro gateway forwards text only]';

/** A tool's JSON-schema parameters, or an empty object schema when the CLI sent none or junk. */
export function parametersOf(schema: unknown): Record<string, unknown> {
  return isObject(schema) ? schema : { type: 'object', properties: {} };
}

/** JSON text of tool-call arguments, whatever shape a CLI sent them in. */
export function argumentText(v: unknown): string {
  if (typeof v === 'string') return v;
  return v === undefined || v === null ? '{}' : JSON.stringify(v);
}

/** The arguments as a JSON object (formats that carry objects, not text); junk becomes `{}`. */
export function argumentObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}

/** The text of a content given as a string or an array of parts; non-text parts noted as dropped. */
export function textOfParts(content: unknown, textTypes: readonly string[]): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => {
      if (typeof p === 'string') return p;
      if (!isObject(p)) return '';
      if (
        typeof p.text === 'string' &&
        (p.type === undefined || (typeof p.type === 'string' && textTypes.includes(p.type)))
      )
        return p.text;
      return typeof p.type === 'string' && /image|file|document|audio/.test(p.type) ? DROPPED_PART : '';
    })
    .filter((t) => t !== '')
    .join('\n');
}

/** Splits a text into the deltas a stream sends (a few hundred characters each). */
export function deltasOf(text: string, size = 256): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The messages with every system (and developer) message merged into one at the start: Claude
 * Code puts system messages between turns and Codex sends several, and many providers' chat
 * templates (llama.cpp, vLLM with Qwen or Llama) accept one system message, first, only.
 */
export function leadingSystem(messages: OpenAI.ChatCompletionMessageParam[]): OpenAI.ChatCompletionMessageParam[] {
  const isSystem = (m: OpenAI.ChatCompletionMessageParam) => m.role === 'system' || m.role === 'developer';
  const system = messages.filter(isSystem);
  if (system.length === 0) return messages;
  const text = system
    .map((m) => textOfParts(m.content, ['text']))
    .filter((t) => t !== '')
    .join('\n\n');
  return [{ role: 'system', content: text }, ...messages.filter((m) => !isSystem(m))];
}
