/**
 * The tokens of one answer as they are billed: prompt tokens (cached ones apart), completion
 * tokens (which include reasoning tokens, as OpenAI counts them) and reasoning tokens on their
 * own. Providers that send no usage block (some local servers, some proxies) still cost tokens,
 * so then the counts are estimated with a real BPE tokenizer and the record says so.
 */
import type * as GptTokenizer from 'gpt-tokenizer';
import type OpenAI from 'openai';

let tokenizer: typeof GptTokenizer | undefined;

/**
 * The tokenizer's BPE tables cost a worker ~60 MB of RSS, and they are needed only for providers
 * that send no usage: loaded on first use, not when the worker starts (`npm run bench -- --only rss`).
 */
export function countTokens(text: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tokenizer ??= require('gpt-tokenizer') as typeof GptTokenizer;
  return tokenizer.countTokens(text);
}

/** Token counts of one call, as stored in its record. */
export interface CallTokens {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** Part of `completionTokens` the model spent reasoning (reasoning models). */
  reasoningTokens: number;
  /** True when the provider reported no usage and the counts are tokenizer estimates. */
  estimated: boolean;
}

/** Tokens a chat message costs beyond its text (role markers), as OpenAI documents it. */
const PER_MESSAGE_TOKENS = 4;

/** The reasoning text some providers put beside the answer (DeepSeek, llama.cpp, vLLM). */
export function reasoningTextOf(message: OpenAI.ChatCompletionMessage | undefined): string {
  const m = message as { reasoning_content?: unknown; reasoning?: unknown } | undefined;
  const text = m?.reasoning_content ?? m?.reasoning;
  return typeof text === 'string' ? text : '';
}

function messageText(m: OpenAI.ChatCompletionMessageParam): string {
  if (typeof m.content === 'string') return m.content;
  if (!Array.isArray(m.content)) return '';
  return m.content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('');
}

/** Estimated prompt tokens of the messages (and of the schema or tool definition sent with them). */
export function estimatePromptTokens(messages: readonly OpenAI.ChatCompletionMessageParam[], extra = ''): number {
  const text = messages.map(messageText).join('\n') + extra;
  return countTokens(text) + PER_MESSAGE_TOKENS * messages.length + 3;
}

/** Highest token count one call is billed with: a provider's larger (or infinite) count is capped here. */
export const MAX_CALL_TOKENS = 1_000_000_000;

/** A provider's token count if it is one (a finite number >= 0), whole and capped; else undefined. */
function tokenCount(n: unknown): number | undefined {
  return typeof n === 'number' && n >= 0 && !Number.isNaN(n) ? Math.min(Math.round(n), MAX_CALL_TOKENS) : undefined;
}

/** The billed tokens of a completion; estimated from `prompt` and the answer when usage is absent. */
export function callTokensOf(completion: OpenAI.ChatCompletion, estimatePrompt: () => number): CallTokens {
  const u = completion.usage as unknown as Record<string, unknown> | null | undefined;
  // A usage block that is not counts (negative, strings, NaN: a broken or hostile provider) is not
  // trusted: the call is estimated as if the provider had sent none, so its bill is never below zero.
  const prompt = tokenCount(u?.prompt_tokens);
  const done = tokenCount(u?.completion_tokens);
  if (prompt !== undefined && done !== undefined && (prompt > 0 || done > 0)) {
    const details = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
    return {
      promptTokens: prompt,
      cachedTokens: Math.min(prompt, tokenCount(details(u?.prompt_tokens_details).cached_tokens) ?? 0),
      completionTokens: done,
      reasoningTokens: Math.min(done, tokenCount(details(u?.completion_tokens_details).reasoning_tokens) ?? 0),
      estimated: false,
    };
  }
  const message = Array.isArray(completion.choices) ? completion.choices[0]?.message : undefined;
  const reasoning = reasoningTextOf(message);
  const reasoningTokens = reasoning ? countTokens(reasoning) : 0;
  const content: unknown = message?.content;
  const toolCalls: unknown = message?.tool_calls;
  const answer = [
    typeof content === 'string' ? content : JSON.stringify(content ?? ''),
    ...(Array.isArray(toolCalls) ? toolCalls.map((c) => JSON.stringify(c)) : []),
  ].join('');
  return {
    promptTokens: estimatePrompt(),
    cachedTokens: 0,
    completionTokens: countTokens(answer) + reasoningTokens,
    reasoningTokens,
    estimated: true,
  };
}
