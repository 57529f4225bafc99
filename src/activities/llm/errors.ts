/**
 * Turns provider errors into Temporal failures with the right retry behaviour: rate limits wait
 * as long as the server asked, transient faults retry with backoff, configuration errors stop
 * at once with a message that says what to fix. The openai client makes one attempt only, so
 * this is the single place where "retry or not" is decided.
 */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { FailureType } from '../../shared/errors';
import { printable } from '../../shared/control-chars';
import { redactUrlsIn } from '../../shared/redact-url';
import { LlmIdleTimeoutError } from './stream-call';

/** Longest wait we take from a `retry-after` header; beyond it the normal backoff applies. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Milliseconds the server asked us to wait, from `retry-after-ms` or `retry-after`. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Where and how the failed call was made, so messages can name the setting to change. */
export interface LlmErrorContext {
  /** Names the call, e.g. "coder T3 attempt 2". */
  label: string;
  /** Base URL of the provider (shown in configuration errors). */
  endpoint?: string;
  /** Environment variable holding the key, for the 401 hint. */
  keyVariable?: string;
  /** HTTP timeout in force, for the timeout message. */
  timeoutMs?: number;
  /** Inactivity limit in force, for the idle-timeout message. */
  idleTimeoutMs?: number;
}

function configHint(status: number, code: string | undefined, ctx: LlmErrorContext): string {
  const where = ctx.endpoint ? ` (${ctx.endpoint})` : '';
  if (code === 'context_length_exceeded')
    return "the prompt is longer than the model's context window: use a model with a larger context or smaller tickets";
  switch (status) {
    case 400:
      return `the provider${where} rejected the request: run \`maestro doctor\` to see which structured-output mode the model supports, and check the role's settings (outputMode, temperature, maxTokens)`;
    case 401:
      return `the API key was refused: set ${ctx.keyVariable ?? 'OPENAI_API_KEY'} to a valid key for ${ctx.endpoint ?? 'the provider'}`;
    case 403:
      return "the API key may not use this model or endpoint: check the key's permissions or choose another model";
    case 404:
      return `the model or endpoint does not exist${where}: check the role's "model" in maestro.config.json / MAESTRO_MODEL and that OPENAI_BASE_URL ends in /v1`;
    case 422:
      return 'the provider could not process the request: check the model name and parameters';
    default:
      return 'the provider rejected the request';
  }
}

/** The error's text without the SDK's leading status code, plus the reason of a lower-level cause. */
function detailOf(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const inner = cause?.cause instanceof Error ? cause.cause : undefined;
  const reason = [cause?.message, inner?.message].filter((m) => m && m !== err.message).join(': ');
  return reason ? `${err.message} (${reason})` : err.message;
}

/**
 * Every failure made here: its message has the URLs it quotes (the SDK's and fetch's errors name
 * the request URL) redacted, so credentials in OPENAI_BASE_URL never reach a history.
 */
function llmFailure(opts: Parameters<typeof ApplicationFailure.create>[0]): ApplicationFailure {
  return ApplicationFailure.create({ ...opts, message: boundedMessage(redactUrlsIn(opts.message ?? '')) });
}

/** Longest failure message kept: a server's error text (a mid-stream `error` event) is the server's to size. */
export const MAX_FAILURE_MESSAGE = 2_000;

/**
 * A server's text quoted in a failure reaches the run's history, worker logs and terminals: its
 * control bytes are shown escaped, and a megabyte of it is cut (every retry would store it again).
 */
function boundedMessage(message: string): string {
  const shown = printable(message);
  return shown.length <= MAX_FAILURE_MESSAGE ? shown : `${shown.slice(0, MAX_FAILURE_MESSAGE)}… (cut)`;
}

/** Classifies an error thrown by the openai client into an ApplicationFailure. */
export function classifyLlmError(err: unknown, ctx: LlmErrorContext): ApplicationFailure {
  const { label } = ctx;
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof LlmIdleTimeoutError) {
    const after = err.tokens > 0 ? ` after ${err.tokens} token(s) of its answer` : '';
    return llmFailure({
      type: FailureType.LlmUnavailable,
      message: `${label}: ${err.message}${after} (MAESTRO_LLM_IDLE_TIMEOUT_MS): it is hung or overloaded; will retry`,
    });
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    const limit = ctx.timeoutMs !== undefined ? ` within ${ctx.timeoutMs} ms (MAESTRO_LLM_TIMEOUT_MS)` : '';
    return llmFailure({
      type: FailureType.LlmUnavailable,
      message: `${label}: the LLM server sent no answer${limit}; will retry`,
    });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return llmFailure({
      type: FailureType.LlmUnavailable,
      message: `${label}: could not reach the LLM server${ctx.endpoint ? ` at ${ctx.endpoint}` : ''} or it dropped the connection (${detailOf(err)}); will retry`,
    });
  }
  if (err instanceof OpenAI.APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    const headers = err.headers instanceof Headers ? err.headers : undefined;
    const code = typeof err.code === 'string' ? err.code : undefined;
    if (status === 429 && code !== 'insufficient_quota') {
      const asked = retryAfterMs(headers);
      const delay = asked !== undefined && asked <= MAX_RETRY_AFTER_MS ? asked : undefined;
      const wait =
        delay !== undefined ? `; retrying after ${delay} ms as the server asked` : '; will retry with backoff';
      return llmFailure({
        type: FailureType.LlmRateLimited,
        message: `${label}: rate limited by the provider (429)${wait}`,
        // Only the server's own wait replaces the role's backoff.
        ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
      });
    }
    if (status === 429) {
      return llmFailure({
        type: FailureType.LlmConfig,
        message: `${label}: 429 ${err.message} — the account has no quota left: check the plan and billing of the API key. Not retried.`,
        nonRetryable: true,
      });
    }
    if (status >= 500 || status === 408 || status === 409 || status === 0) {
      return llmFailure({
        type: FailureType.LlmUnavailable,
        message: `${label}: the LLM server failed with ${status || 'no status'} (${err.message}); will retry`,
      });
    }
    return llmFailure({
      type: FailureType.LlmConfig,
      message: `${label}: ${err.message} — ${configHint(status, code, ctx)}. Not retried.`,
      nonRetryable: true,
    });
  }
  const message = err instanceof Error ? detailOf(err) : String(err);
  return llmFailure({ type: FailureType.LlmUnavailable, message: `${label}: ${message}; will retry` });
}
