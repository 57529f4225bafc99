/**
 * Turns provider errors into Temporal failures with the right retry behaviour: rate limits wait
 * as long as the server asked, transient faults retry with backoff, configuration errors stop
 * at once with a message that says what to fix.
 */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { FailureType } from '../../shared/errors';

/** Milliseconds the server asked us to wait, from `retry-after-ms` or `retry-after`. */
export function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

const CONFIG_HINTS: Record<number, string> = {
  400: 'the provider rejected the request: check that the model supports structured output (json_schema) and the settings you gave it',
  401: 'the API key was refused: set OPENAI_API_KEY to a valid key for OPENAI_BASE_URL',
  403: "the API key may not use this model or endpoint: check the key's permissions or choose another model",
  404: "the model or endpoint does not exist: check MAESTRO_MODEL / the role's model and OPENAI_BASE_URL (it usually ends in /v1)",
  422: 'the provider could not process the request: check the model name and parameters',
};

/** Classifies an error thrown by the openai client into an ApplicationFailure. */
export function classifyLlmError(err: unknown, context: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIConnectionError) {
    return ApplicationFailure.create({
      type: FailureType.LlmUnavailable,
      message: `${context}: could not reach the LLM server (${err.message}); will retry`,
      cause: err,
    });
  }
  if (err instanceof OpenAI.APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    const headers = err.headers instanceof Headers ? err.headers : undefined;
    if (status === 429) {
      const delay = retryAfterMs(headers);
      return ApplicationFailure.create({
        type: FailureType.LlmRateLimited,
        message: `${context}: rate limited by the provider (429)${delay !== undefined ? `; retrying after ${delay} ms as asked` : ''}`,
        nextRetryDelay: delay,
      });
    }
    if (status >= 500 || status === 408 || status === 409) {
      return ApplicationFailure.create({
        type: FailureType.LlmUnavailable,
        message: `${context}: the LLM server failed with ${status} (${err.message}); will retry`,
      });
    }
    const hint = CONFIG_HINTS[status] ?? 'the provider rejected the request';
    return ApplicationFailure.create({
      type: FailureType.LlmConfig,
      message: `${context}: ${status} ${err.message} — ${hint}. Not retried.`,
      nonRetryable: true,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ type: FailureType.LlmUnavailable, message: `${context}: ${message}` });
}
