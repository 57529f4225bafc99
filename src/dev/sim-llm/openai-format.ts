/**
 * Wire formats of the OpenAI API the simulated server speaks: chat.completion objects, error
 * bodies, token estimates and the message flattening the request log uses.
 */
import type { SimMessage } from './types';

/** OpenAI's error body shape. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** An error body in OpenAI's shape. */
export function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, code, param } };
}

/** Estimated tokens of a text: a quarter of its characters, rounded up. */
export function tokensOf(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The text of a message's content (a string, or an array of content parts). */
export function flattenContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string')
          return (part as { text: string }).text;
        return '';
      })
      .join('');
  }
  return '';
}

/** The request's messages as role + text. */
export function flattenMessages(messages: unknown): SimMessage[] {
  if (!Array.isArray(messages)) return [];
  return messages.map((m) => {
    const obj = (m && typeof m === 'object' ? m : {}) as { role?: unknown; content?: unknown };
    return { role: typeof obj.role === 'string' ? obj.role : 'user', content: flattenContent(obj.content) };
  });
}

/** The system text (system and developer messages) and the user prompt the answer is for. */
export function promptOf(messages: readonly SimMessage[]): { system: string; user: string } {
  const system = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => m.content)
    .join('\n\n');
  const users = messages.filter((m) => m.role === 'user');
  // A follow-up (e.g. a repair request) comes after the structured prompt: answer the prompt.
  const prompt = [...users].reverse().find((m) => m.content.startsWith('# '));
  return { system, user: (prompt ?? users[users.length - 1])?.content ?? '' };
}

/** Token usage in OpenAI's shape. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** Usage for a prompt size, an answer size (reasoning included), cached prompt and reasoning tokens. */
export function usageOf(
  promptTokens: number,
  completionTokens: number,
  cachedTokens: number,
  reasoningTokens = 0,
): CompletionUsage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}

/** A non-streaming chat.completion object with one choice (usage left out when undefined). */
export function completionBody(args: {
  id: string;
  model: string;
  content: string | null;
  refusal: string | null;
  finishReason: 'stop' | 'length';
  usage: CompletionUsage | undefined;
  /** The answer as a forced function call (tool mode). */
  toolCall?: { name: string; arguments: string };
  /** Reasoning text beside the answer, as DeepSeek, llama.cpp and vLLM send it. */
  reasoning?: string;
  /** Tool calls of an agent turn (OpenAI `tool_calls`); the finish reason becomes `tool_calls`. */
  toolCalls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
}) {
  const toolCalls = args.toolCall
    ? { tool_calls: [{ id: `call_${args.id}`, type: 'function' as const, function: args.toolCall }] }
    : {};
  return {
    id: args.id,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: args.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: args.content,
          refusal: args.refusal,
          ...(args.toolCalls ? { tool_calls: args.toolCalls } : toolCalls),
          ...(args.reasoning !== undefined ? { reasoning_content: args.reasoning } : {}),
        },
        logprobs: null,
        finish_reason: args.toolCalls ? ('tool_calls' as const) : args.finishReason,
      },
    ],
    ...(args.usage ? { usage: args.usage } : {}),
    system_fingerprint: 'fp_maestro_sim',
  };
}
