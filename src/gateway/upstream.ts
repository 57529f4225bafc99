/**
 * The gateway's one way to the role's real provider: a chat completion streamed like every other
 * Maestro call (stream-call.ts: an idle timeout as well as the total one; a provider that refuses
 * streaming is called without, remembered), with the project's openai client settings
 * (client.ts), billed like every other Maestro call
 * (structured.ts answeredCall: tokens, cached tokens, reasoning, price table, latency) and
 * normalised into an `Answer` with at most `maxToolCalls` tool calls. A failure is classified
 * like every LLM error and mapped to the status a CLI should see (429 stays 429, a provider
 * outage is a 502, a timeout a 504).
 */
import OpenAI from 'openai';
import { FailureType } from '../shared/errors';
import type { LlmCallRecord } from '../shared/types';
import { endpointOf, keyVariableOf, type LlmSettings } from '../activities/llm/client';
import { adjustmentFor, providerMemory } from '../activities/llm/adaptations';
import { classifyLlmError } from '../activities/llm/errors';
import { LlmIdleTimeoutError, streamCompletion } from '../activities/llm/stream-call';
import { DEFAULT_LLM_IDLE_TIMEOUT_MS } from '../shared/llm-timeouts';
import { answeredCall, noTokens, typeOf, type CallMeta } from '../activities/llm/structured';
import { estimatePromptTokens } from '../activities/llm/usage-of';
import { argumentText, isObject, type Answer, type AnswerCall, type ChatRequest } from './wire';

/** What one upstream call gave: an answer, or an error to relay, and its record either way. */
export type UpstreamResult =
  | { ok: true; answer: Answer; record: LlmCallRecord }
  | {
      ok: false;
      status: number;
      kind: 'rate_limit' | 'upstream' | 'timeout' | 'bad_request';
      message: string;
      record: LlmCallRecord;
    };

/** Who is calling and how, for one call. */
export interface UpstreamCall {
  client: OpenAI;
  settings: LlmSettings;
  /** The role's model: what is asked upstream and billed, whatever the CLI named. */
  model: string;
  /** What the CLI asked for, echoed in the answer. */
  askedModel: string;
  chat: ChatRequest;
  meta: CallMeta;
  timeoutMs: number;
  maxToolCalls: number;
  signal?: AbortSignal;
  id: string;
}

/** The tool calls of a completion (function calls only), the first `max` of them, and how many were left out. */
function callsOf(
  message: OpenAI.ChatCompletionMessage | undefined,
  id: string,
  max: number,
): { calls: AnswerCall[]; dropped: number } {
  const raw: unknown[] = Array.isArray(message?.tool_calls) ? message.tool_calls : [];
  const fns = raw.filter(
    (c): c is Record<string, unknown> & { function: Record<string, unknown> } => isObject(c) && isObject(c.function),
  );
  const calls = fns.slice(0, max).map((c, i) => ({
    id: typeof c.id === 'string' && c.id !== '' ? c.id : `call_${id}_${i}`,
    name: typeof c.function.name === 'string' ? c.function.name : '',
    arguments: argumentText(c.function.arguments),
  }));
  return { calls, dropped: Math.max(0, fns.length - max) };
}

/** Makes the call; never throws (a cancellation is reported as a failed call too). */
export async function callUpstream(c: UpstreamCall): Promise<UpstreamResult> {
  const startedAt = new Date();
  const t0 = Date.now();
  const base = { ...c.meta, repaired: false };
  let completion!: OpenAI.ChatCompletion;
  // Our own timer, not only the SDK's: how a timed-out fetch surfaces differs between runtimes.
  const timer = new AbortController();
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    timer.abort();
  }, c.timeoutMs);
  const signal = c.signal ? AbortSignal.any([c.signal, timer.signal]) : timer.signal;
  const memory = c.settings.memory ?? providerMemory;
  const endpoint = endpointOf(c.settings);
  const idleMs = c.settings.idleTimeoutMs ?? DEFAULT_LLM_IDLE_TIMEOUT_MS;
  try {
    for (let adjusted = 0; ; adjusted++) {
      const stream = memory.get(endpoint, c.model).stream ?? 'full';
      try {
        ({ completion } = await streamCompletion(
          c.client,
          { model: c.model, ...c.chat },
          { signal, timeoutMs: c.timeoutMs, idleMs, support: stream },
        ));
        break;
      } catch (err) {
        // A provider that refuses streaming (or stream_options) is asked again without, once.
        const adjustment =
          adjusted === 0 && !signal.aborted
            ? adjustmentFor(err, { mode: 'json_schema', temperature: false, stream })
            : undefined;
        if (!adjustment?.patch.stream) throw err;
        memory.learn(endpoint, c.model, { stream: adjustment.patch.stream });
      }
    }
  } catch (err) {
    clearTimeout(t);
    const idle = err instanceof LlmIdleTimeoutError;
    const failure = classifyLlmError(err, {
      label: 'gateway call',
      endpoint,
      keyVariable: keyVariableOf(c.settings),
      timeoutMs: c.timeoutMs,
      idleTimeoutMs: idleMs,
    });
    const record: LlmCallRecord = { ...noTokens(c.model, startedAt, Date.now() - t0), ...base, error: typeOf(failure) };
    const status = err instanceof OpenAI.APIError && typeof err.status === 'number' ? err.status : 0;
    if (idle)
      return {
        ok: false,
        status: 504,
        kind: 'timeout',
        message: `${err.message} (MAESTRO_LLM_IDLE_TIMEOUT_MS)`,
        record,
      };
    if (timedOut || err instanceof OpenAI.APIConnectionTimeoutError)
      return {
        ok: false,
        status: 504,
        kind: 'timeout',
        message: `the model did not answer within ${c.timeoutMs} ms`,
        record,
      };
    if (c.signal?.aborted)
      return {
        ok: false,
        status: 499,
        kind: 'upstream',
        message: 'the client went away or the gateway closed',
        record,
      };
    if (status === 429 && err instanceof OpenAI.APIError && err.code !== 'insufficient_quota')
      return {
        ok: false,
        status: 429,
        kind: 'rate_limit',
        message: `the provider is rate limiting: ${failure.message}`,
        record,
      };
    if (status === 400 || status === 413 || status === 422)
      return {
        ok: false,
        status: 400,
        kind: 'bad_request',
        message: `the provider refused the request: ${failure.message}`,
        record,
      };
    return { ok: false, status: 502, kind: 'upstream', message: `the provider failed: ${failure.message}`, record };
  }
  clearTimeout(t);
  const billed = answeredCall({
    completion,
    asked: c.model,
    prices: c.settings.prices,
    startedAt,
    t0,
    repaired: false,
    estimatePrompt: () => estimatePromptTokens(c.chat.messages, JSON.stringify(c.chat.tools ?? [])),
  });
  const record: LlmCallRecord = { ...billed, ...base };
  const choice = completion.choices?.[0];
  const message = choice?.message;
  const { calls, dropped } = callsOf(message, c.id, c.maxToolCalls);
  const content = typeof message?.content === 'string' ? message.content : '';
  const refusal = typeof message?.refusal === 'string' && message.refusal ? message.refusal : '';
  const note =
    dropped > 0
      ? `\n[maestro gateway: ${dropped} more tool call(s) left out, over the limit of ${c.maxToolCalls} per answer]`
      : '';
  const finish = choice?.finish_reason;
  const answer: Answer = {
    id: c.id,
    model: c.askedModel || billed.model,
    text: (content || refusal) + note,
    toolCalls: calls,
    finish:
      calls.length > 0
        ? 'tool_calls'
        : finish === 'length'
          ? 'length'
          : finish === 'content_filter'
            ? 'content_filter'
            : 'stop',
    usage: {
      promptTokens: record.promptTokens,
      cachedTokens: record.cachedTokens,
      completionTokens: record.completionTokens,
      reasoningTokens: record.reasoningTokens ?? 0,
    },
    created: Math.floor(Date.now() / 1000),
  };
  if (!choice) record.error = FailureType.LlmBadOutput;
  return { ok: true, answer, record };
}
