/**
 * Billing of calls that timed out. The provider charges for the prompt it read even when the
 * answer never arrived, but sends no usage; such a call is booked with the tokenizer's estimate of
 * its prompt tokens (usage-of.ts, as for providers that send no usage) and marked `estimated`, so
 * budgets still see it.
 */
import OpenAI from 'openai';
import { costOf, type ModelPrice } from './pricing';
import { estimatePromptTokens } from './usage-of';

/** A call's own time limit, on top of the activity's cancellation signal. */
export interface CallDeadline {
  /** Aborts at the deadline or when the activity is cancelled. */
  signal: AbortSignal;
  /** Whether the deadline (not a cancellation) ended the call. */
  expired(): boolean;
  clear(): void;
}

/**
 * Starts the time limit of one HTTP call. We keep the timer ourselves rather than rely on how the
 * HTTP stack reports its timeout (an abort during fetch can surface as a plain connection error),
 * so a timed-out call is always known as one, and billed.
 */
export function callDeadline(timeoutMs: number, cancel: AbortSignal | undefined): CallDeadline {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), timeoutMs);
  return {
    signal: cancel ? AbortSignal.any([cancel, timer.signal]) : timer.signal,
    expired: () => timer.signal.aborted && !cancel?.aborted,
    clear: () => clearTimeout(handle),
  };
}

/** Whether a failed call timed out: our deadline passed, or the SDK's own timeout fired. */
export function timedOutCall(err: unknown, deadline: CallDeadline): boolean {
  return deadline.expired() || err instanceof OpenAI.APIConnectionTimeoutError;
}

/** The error to classify for a failed call: the SDK's timeout error when the call timed out. */
export function timeoutOr(err: unknown, timedOut: boolean): unknown {
  return timedOut ? new OpenAI.APIConnectionTimeoutError() : err;
}

/** The tokens and cost a timed-out call is billed with. */
export function timedOutBill(
  model: string,
  messages: readonly OpenAI.ChatCompletionMessageParam[],
  prices?: Readonly<Record<string, ModelPrice>>,
  /** Tokens that streamed before the call timed out (they were generated, so billed). */
  streamedTokens = 0,
): { promptTokens: number; cachedTokens: number; completionTokens: number; usd: number; estimated: true } {
  const tokens = { promptTokens: estimatePromptTokens(messages), cachedTokens: 0, completionTokens: streamedTokens };
  return { ...tokens, usd: costOf(model, tokens, prices), estimated: true };
}
