/**
 * One LLM turn of an agent loop: a chat completion offered `tools` (OpenAI `tools`/`tool_calls`
 * wire format, understood by OpenAI, Azure, vLLM, Ollama and llama.cpp) and the final answer's
 * schema. The model either asks for tool calls or gives its final answer; either way the call is
 * recorded like every other LLM call. A final answer that does not match the schema is not a
 * failure here: the loop shows the model the problem on its next turn.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { z } from 'zod';
import { FailureType } from '../../shared/errors';
import type { LlmCallRecord } from '../../shared/types';
import type { ToolCallRequest } from '../../shared/tools';
import type { FunctionTool } from '../tools/tool-specs';
import { DEFAULT_LLM_IDLE_TIMEOUT_MS } from '../../shared/llm-timeouts';
import { adjustmentFor, outputCapOf, providerMemory, type ProviderMemory } from './adaptations';
import { createOpenAiClient, endpointOf, keyVariableOf, type LlmSettings } from './client';
import { classifyLlmError } from './errors';
import { modeParams } from './output-modes';
import { LlmIdleTimeoutError, streamedTokensOf, streamCompletion, type LlmProgress } from './stream-call';
import { answeredCall, judge, noTokens, typeOf, validate, type CallMeta } from './structured';
import { callDeadline, timedOutBill, timedOutCall, timeoutOr } from './timed-out';
import { wireSchemaOf } from './wire-schema';

/** A chat message of an agent conversation (OpenAI's request shape). */
export type AgentMessage = OpenAI.ChatCompletionMessageParam;

/** What one turn asks for. */
export interface ToolTurnRequest<T extends z.ZodType> {
  model: string;
  messages: AgentMessage[];
  tools: FunctionTool[];
  schema: T;
  schemaName: string;
  label: string;
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  meta: CallMeta;
  onCall?: (record: LlmCallRecord) => void;
  /** Told the tokens so far and their rate while the answer streams. */
  onProgress?: (progress: LlmProgress) => void;
}

/** What the model did in one turn. */
export interface ToolTurnResult<T> {
  /** The assistant message to append to the conversation. */
  message: OpenAI.ChatCompletionAssistantMessageParam;
  toolCalls: ToolCallRequest[];
  /** The validated final answer, when the model gave one. */
  final?: T;
  /** Why the final answer was refused (shown to the model next turn). */
  problem?: string;
  model: string;
  record: LlmCallRecord;
}

/**
 * A tool call as the provider sent it, with text fields whatever it sent (a server may send the
 * arguments as an object, or no id): the agent turn then reads and vets it (turn-calls.ts).
 */
function wireCall(c: OpenAI.ChatCompletionMessageFunctionToolCall): ToolCallRequest {
  const text = (v: unknown): string =>
    typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v);
  return { id: text(c.id), name: text(c.function.name), arguments: text(c.function.arguments) };
}

/** Tool-calling turns against the configured provider; Temporal owns retries. */
export class ToolLlm {
  private readonly client: OpenAI;
  private readonly memory: ProviderMemory;

  constructor(private readonly settings: LlmSettings) {
    this.client = createOpenAiClient(settings);
    this.memory = settings.memory ?? providerMemory;
  }

  /** The bill of a turn of `messages` lost with its worker after `streamedTokens` had streamed (as a timed-out call's). */
  lostCallBill(model: string, messages: readonly OpenAI.ChatCompletionMessageParam[], streamedTokens: number) {
    return timedOutBill(model, messages, this.settings.prices, streamedTokens);
  }

  /** One completion with tools; classifies provider errors like every structured call. */
  async turn<T extends z.ZodType>(req: ToolTurnRequest<T>): Promise<ToolTurnResult<z.infer<T>>> {
    let wire = wireSchemaOf(req.schema);
    let startedAt = new Date();
    let t0 = Date.now();
    let completion: OpenAI.ChatCompletion | undefined;
    let cap = outputCapOf(req.maxTokens, this.memory.get(endpointOf(this.settings), req.model));
    const recordOf = (r: Omit<LlmCallRecord, keyof CallMeta | 'attempt'>): LlmCallRecord => {
      const full: LlmCallRecord = { ...r, ...req.meta };
      req.onCall?.(full);
      return full;
    };
    const baseUrl = endpointOf(this.settings);
    const timeoutMs = this.settings.timeoutMs;
    const idleMs = this.settings.idleTimeoutMs ?? DEFAULT_LLM_IDLE_TIMEOUT_MS;
    // Only a refusal of streaming is adapted to here, in this attempt; a refused default output cap
    // is remembered and the attempt fails retryably, so Temporal's retry sends the lowered cap.
    for (let adjusted = 0; !completion; adjusted++) {
      const learned = this.memory.get(baseUrl, req.model);
      const stream = learned.stream ?? 'full';
      // The default output cap unless configured (or what this endpoint was found to accept).
      cap = outputCapOf(req.maxTokens, learned);
      // The wire schema as for structured calls: counts and patterns only to engines that take them
      // (Azure and an endpoint that refused them get the portable one, or every agent turn fails).
      const portable = learned.portableSchema === true || this.settings.provider === 'azure';
      wire = wireSchemaOf(req.schema, portable ? 'portable' : 'constrained');
      const deadline = callDeadline(timeoutMs, req.signal);
      startedAt = new Date();
      t0 = Date.now();
      try {
        ({ completion } = await streamCompletion(
          this.client,
          {
            model: req.model,
            messages: req.messages,
            ...(req.tools.length > 0 ? { tools: req.tools } : {}),
            ...modeParams({ mode: 'json_schema', schemaName: req.schemaName, schema: wire.schema }),
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            ...(cap.maxTokens !== undefined ? { max_completion_tokens: cap.maxTokens } : {}),
          },
          {
            signal: deadline.signal,
            timeoutMs,
            idleMs,
            support: stream,
            ...(req.onProgress ? { onProgress: req.onProgress } : {}),
          },
        ));
      } catch (err) {
        if (req.signal?.aborted) throw new CancelledFailure(`${req.label}: cancelled while waiting for the model`);
        const idle = err instanceof LlmIdleTimeoutError;
        const timedOut = idle || timedOutCall(err, deadline);
        const adjustment =
          !timedOut && adjusted < 2
            ? adjustmentFor(err, {
                mode: 'json_schema',
                temperature: false,
                stream,
                ...(cap.defaulted ? { defaultCap: cap.maxTokens } : {}),
                constrainedSchema: !portable,
              })
            : undefined;
        if (adjustment?.patch.stream) {
          recordOf({
            ...noTokens(req.model, startedAt, Date.now() - t0),
            repaired: false,
            error: FailureType.LlmAdapted,
          });
          this.memory.learn(baseUrl, req.model, { stream: adjustment.patch.stream });
          continue;
        }
        // The default cap refused as too large, or the schema's counts and patterns: remember what
        // the endpoint takes; the retry uses it.
        if (adjustment?.patch.defaultCap !== undefined || adjustment?.patch.portableSchema) {
          this.memory.learn(baseUrl, req.model, adjustment.patch);
          recordOf({
            ...noTokens(req.model, startedAt, Date.now() - t0),
            repaired: false,
            error: FailureType.LlmAdapted,
          });
          throw ApplicationFailure.create({
            type: FailureType.LlmUnavailable,
            message: `${req.label}: ${baseUrl} model ${req.model} ${adjustment.notice} (remembered for this process)`,
          });
        }
        const failure = classifyLlmError(idle ? err : timeoutOr(err, timedOut), {
          label: req.label,
          endpoint: baseUrl,
          keyVariable: keyVariableOf(this.settings),
          timeoutMs,
          idleTimeoutMs: idleMs,
        });
        // A timed-out call was still paid for: its prompt tokens, estimated, and what it streamed.
        // So was a stream that broke after tokens had come (dropped, or an error event mid-answer).
        const streamed = idle ? err.tokens : streamedTokensOf(err);
        const bill =
          timedOut || streamed > 0 ? timedOutBill(req.model, req.messages, this.settings.prices, streamed) : {};
        recordOf({
          ...noTokens(req.model, startedAt, Date.now() - t0),
          ...bill,
          repaired: false,
          error: typeOf(failure),
        });
        throw failure;
      } finally {
        deadline.clear();
      }
    }
    const base = answeredCall({
      completion,
      asked: req.model,
      prices: this.settings.prices,
      startedAt,
      t0,
      repaired: false,
    });
    const { model } = base;
    const message = completion.choices[0]?.message;
    const toolCalls: ToolCallRequest[] = (Array.isArray(message?.tool_calls) ? message.tool_calls : [])
      .filter((c) => c?.type === 'function' && typeof c.function === 'object' && c.function !== null)
      .map((c) => wireCall(c as OpenAI.ChatCompletionMessageFunctionToolCall));
    const assistant: OpenAI.ChatCompletionAssistantMessageParam = {
      role: 'assistant',
      content: message?.content ?? null,
      ...(toolCalls.length > 0
        ? {
            tool_calls: toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : {}),
    };
    if (toolCalls.length > 0) return { message: assistant, toolCalls, model, record: recordOf(base) };
    const outcome = judge({ label: req.label, maxTokens: cap.maxTokens }, req.meta, completion);
    if (outcome.failure) {
      recordOf({ ...base, error: outcome.failure.type ?? FailureType.LlmBadOutput });
      throw outcome.failure;
    }
    const checked = validate(outcome.content, req.schema, wire);
    if (checked.ok) return { message: assistant, toolCalls, final: checked.data, model, record: recordOf(base) };
    return {
      message: assistant,
      toolCalls,
      problem: checked.problem,
      model,
      record: recordOf({ ...base, error: FailureType.LlmBadOutput }),
    };
  }
}
