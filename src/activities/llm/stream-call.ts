/**
 * One chat completion, streamed: the answer arrives as chunks (stream-accumulate.ts adds them up),
 * so a call is timed out on inactivity, not on its total time. A slow model that keeps sending
 * tokens is never cut off for being slow; a server that stops sending (hung, or stuck mid-answer)
 * is detected within `idleMs`. While the answer streams, `onProgress` is told the tokens so far and
 * their rate (the activity heartbeats them for `maestro watch` and the Web UI). A provider that
 * refuses streaming or `stream_options` is served without them (adaptations.ts remembers it).
 */
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { CompletionAccumulator } from './stream-accumulate';

/** How a provider takes streaming: fully, without `stream_options` (no usage chunk), or not at all. */
export type StreamSupport = 'full' | 'no-usage' | 'off';

/** Progress of a streaming call, as heartbeated (`llm` in the activity's heartbeat details). */
export interface LlmProgress {
  /** Tokens generated so far (one per chunk that carried text; the provider's count once it sent usage). */
  tokens: number;
  /** Tokens per second since the first token (0 before it). */
  tokensPerSecond: number;
  /** When the call started (ISO 8601). */
  startedAt: string;
}

/** At most one progress report per this many ms (plus one when the answer is complete). */
export const PROGRESS_EVERY_MS = 1_000;

/** The server sent nothing for `idleMs` (neither the first chunk nor a later one). */
export class LlmIdleTimeoutError extends Error {
  constructor(
    readonly idleMs: number,
    /** Tokens that had arrived before the stream stalled (billed). */
    readonly tokens: number,
  ) {
    super(`the LLM server sent no token for ${idleText(idleMs)}`);
    this.name = 'LlmIdleTimeoutError';
  }
}

/** `60 s`, `1.5 s`, `800 ms`. */
export function idleText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** Tokens that had streamed when a call failed, by its error (a broken stream was still generated, so billed). */
const streamedBefore = new WeakMap<object, number>();

/** Tokens the call that threw `err` had streamed before it failed (0: none, or not a stream's failure). */
export function streamedTokensOf(err: unknown): number {
  return typeof err === 'object' && err !== null ? (streamedBefore.get(err) ?? 0) : 0;
}

/** How one streamed call is made. */
export interface StreamOptions {
  /** Aborts the call (cancellation, or the call's total deadline). */
  signal: AbortSignal;
  /** The call's own time limit (the deadline behind `signal`); the SDK's timeout is a second after it, a fallback only. */
  timeoutMs: number;
  idleMs: number;
  support: StreamSupport;
  onProgress?: (p: LlmProgress) => void;
  /** Clock (tests). */
  now?: () => number;
}

/** A finished call: the completion its chunks add up to, and its completion tokens (the provider's count when it sent one). */
export interface StreamedCompletion {
  completion: OpenAI.ChatCompletion;
  tokens: number;
}

/**
 * Makes the request (streamed unless `support` is 'off') and returns the completion it adds up to.
 * Throws `LlmIdleTimeoutError` when the server goes quiet for `idleMs`, else what the SDK threw.
 */
export async function streamCompletion(
  client: OpenAI,
  body: OpenAI.ChatCompletionCreateParamsNonStreaming,
  opts: StreamOptions,
): Promise<StreamedCompletion> {
  const now = opts.now ?? Date.now;
  const startedAt = new Date(now()).toISOString();
  if (opts.support === 'off') {
    const completion = await client.chat.completions.create(body, {
      signal: opts.signal,
      timeout: opts.timeoutMs + 1_000,
    });
    return { completion, tokens: completion.usage?.completion_tokens ?? 0 };
  }
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // No idle timer when the call's own deadline comes first anyway (its message says which limit it was).
  const watch = opts.idleMs < opts.timeoutMs;
  const quietFor = () => {
    clearTimeout(timer);
    if (watch) timer = setTimeout(() => idle.abort(), opts.idleMs);
  };
  const acc = new CompletionAccumulator();
  let tokens = 0;
  let firstTokenAt: number | undefined;
  let reportedAt = 0;
  const report = (force: boolean) => {
    const t = now();
    if (!opts.onProgress || (!force && t - reportedAt < PROGRESS_EVERY_MS)) return;
    reportedAt = t;
    const secs = firstTokenAt !== undefined ? (t - firstTokenAt) / 1000 : 0;
    const rate = secs > 0 ? Math.round((tokens / secs) * 10) / 10 : 0;
    opts.onProgress({ tokens, tokensPerSecond: rate, startedAt });
  };
  quietFor();
  try {
    const signal = AbortSignal.any([opts.signal, idle.signal]);
    const response = await client.chat.completions
      .create(
        {
          ...body,
          stream: true,
          ...(opts.support === 'full' ? { stream_options: { include_usage: true } } : {}),
        },
        { signal, timeout: opts.timeoutMs + 1_000 },
      )
      .asResponse();
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      // A server that ignores `stream` answers with the whole completion: read it as one chunk.
      acc.add(await readJson(response, signal));
    } else {
      const controller = new AbortController();
      signal.addEventListener('abort', () => controller.abort(), { once: true });
      for await (const chunk of Stream.fromSSEResponse<unknown>(response, controller, client)) {
        quietFor();
        if (acc.add(chunk).produced) {
          tokens++;
          firstTokenAt ??= now();
          report(false);
        }
      }
    }
    // The SDK ends the iteration quietly when the request is aborted: an abort is not an answer.
    if (idle.signal.aborted && !opts.signal.aborted) throw new LlmIdleTimeoutError(opts.idleMs, tokens);
    if (opts.signal.aborted) throw new OpenAI.APIUserAbortError();
    // The server's count replaces ours once it sent one.
    const completion = acc.completion(body.model);
    const counted = completion.usage?.completion_tokens;
    if (typeof counted === 'number' && Number.isFinite(counted) && counted >= 0) tokens = counted;
    report(true);
    return { completion, tokens };
  } catch (err) {
    if (idle.signal.aborted && !opts.signal.aborted) throw new LlmIdleTimeoutError(opts.idleMs, tokens);
    if (tokens > 0 && typeof err === 'object' && err !== null) streamedBefore.set(err, tokens);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON body of a non-streamed answer (aborted with the call). */
async function readJson(response: Response, signal: AbortSignal): Promise<unknown> {
  const text = await Promise.race([
    response.text(),
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new OpenAI.APIUserAbortError());
      signal.addEventListener('abort', () => reject(new OpenAI.APIUserAbortError()), { once: true });
    }),
  ]);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OpenAI.APIConnectionError({
      message: 'the LLM server sent a body that is neither JSON nor an event stream',
    });
  }
}
