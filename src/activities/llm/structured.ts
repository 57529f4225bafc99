/**
 * The one way Maestro talks to a model: a chat completion whose answer must match a zod
 * schema. The request carries a portable wire schema (wire-schema.ts) in the configured
 * structured-output mode (output-modes.ts); a provider's refusal of a mode, `temperature` or an
 * output-token parameter is adapted to once and remembered (adaptations.ts). The answer is
 * validated here against the full zod schema, so a bad answer's tokens are still counted and the
 * answer can be shown to the model once for repair. Every HTTP call becomes an `LlmCallRecord`,
 * failed and refused ones included.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { z } from 'zod';
import { FailureType } from '../../shared/errors';
import { BOSS_ROLE } from '../../shared/roles';
import { DEFAULT_LLM_IDLE_TIMEOUT_MS } from '../../shared/llm-timeouts';
import type { LlmCallKind, LlmCallRecord } from '../../shared/types';
import { addUsage, emptyUsage, usageOfRecord, type Usage } from '../../shared/usage';
import type { Prompt } from '../roles/prompts';
import {
  adjustmentFor,
  laterMode,
  outputCapOf,
  providerMemory,
  type ProviderMemory,
  type TokenLimitParam,
} from './adaptations';
import { createOpenAiClient, endpointOf, keyVariableOf, type LlmSettings } from './client';
import { classifyLlmError } from './errors';
import { answerText, modeParams, schemaInstructions, type OutputMode, type ReasoningEffort } from './output-modes';
import { costOf, priceFor } from './pricing';
import { LlmIdleTimeoutError, streamedTokensOf, streamCompletion, type LlmProgress } from './stream-call';
import { callDeadline, timedOutBill, timedOutCall, timeoutOr } from './timed-out';
import { callTokensOf, estimatePromptTokens } from './usage-of';
import { wireSchemaOf, type WireSchema } from './wire-schema';

export type { LlmSettings } from './client';

/** Who makes a call and in which activity attempt, for the call records. */
export interface CallMeta {
  kind: LlmCallKind;
  role: string;
  ticketId?: string;
  attempt: number;
  taskQueue?: string;
  workerIdentity?: string;
  /** The coding-agent CLI whose request this was (calls through the LLM gateway). */
  executor?: string;
}

/** What one structured call asks for. */
export interface StructuredRequest<T extends z.ZodType> {
  model: string;
  prompt: Prompt;
  schema: T;
  schemaName: string;
  /** Names the call in errors and logs, e.g. "coder T3 attempt 2". */
  label: string;
  temperature?: number;
  maxTokens?: number;
  /** Structured-output mode of this role (unset: the provider's, else `json_schema`). */
  outputMode?: OutputMode;
  /** Sent as `reasoning_effort` (reasoning models only). */
  reasoningEffort?: ReasoningEffort;
  signal?: AbortSignal;
  /** Who is calling (default: a 'work' call of role 'unknown', attempt 1). */
  meta?: CallMeta;
  /**
   * Runs before each HTTP call (the repair included): throwing stops before the call is made;
   * a `timeoutMs` it returns bounds that call below the configured HTTP timeout.
   */
  beforeCall?: () => { timeoutMs?: number } | void;
  /** Told about each call as soon as it ends, so the caller can keep it even if a later one fails. */
  onCall?: (record: LlmCallRecord) => void;
  /** Told the tokens so far and their rate while an answer streams (at most about once a second). */
  onProgress?: (progress: LlmProgress) => void;
}

/** A validated answer with what it cost (repair calls included). */
export interface StructuredResponse<T> {
  data: T;
  usage: Usage;
  model: string;
  /** The HTTP calls this answer took (one, or more with a repair or an adapted request). */
  calls: LlmCallRecord[];
}

const DEFAULT_META: CallMeta = { kind: 'work', role: 'unknown', attempt: 1 };

/** At most this many adapted repeats of one request (3 mode fallbacks, temperature, token parameter, spare). */
const MAX_ADJUSTMENTS = 6;

type Record_ = Omit<LlmCallRecord, keyof CallMeta | 'attempt'>;

/** Thin wrapper over the openai client; Temporal owns retries, so the client makes one attempt. */
export class StructuredLlm {
  private readonly client: OpenAI;
  private readonly memory: ProviderMemory;

  constructor(private readonly settings: LlmSettings) {
    this.client = createOpenAiClient(settings);
    this.memory = settings.memory ?? providerMemory;
  }

  /**
   * The bill of a call of `prompt` lost with its worker after `streamedTokens` had streamed (as a
   * timed-out call's: the prompt estimated, priced with this endpoint's prices).
   */
  lostCallBill(model: string, prompt: { system: string; user: string }, streamedTokens: number) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: prompt.system },
      { role: 'user', content: prompt.user },
    ];
    return timedOutBill(model, messages, this.settings.prices, streamedTokens);
  }

  /** Calls the model; on invalid output, makes one repair call with the validation error. */
  async call<T extends z.ZodType>(req: StructuredRequest<T>): Promise<StructuredResponse<z.infer<T>>> {
    const meta = req.meta ?? DEFAULT_META;
    const wire = wireSchemaOf(req.schema);
    const conversation: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: req.prompt.user }];
    const calls: LlmCallRecord[] = [];
    const record = (r: Record_) => {
      const full: LlmCallRecord = { ...r, ...meta };
      calls.push(full);
      req.onCall?.(full);
    };
    let lastProblem = '';
    for (let round = 0; round < 2; round++) {
      const repaired = round > 0;
      const { completion, mode, messages, t0, startedAt, maxTokens } = await this.complete(
        req,
        wire,
        conversation,
        (r) => record({ ...r, repaired }),
      );
      const base = answeredCall({
        completion,
        asked: req.model,
        prices: this.settings.prices,
        startedAt,
        t0,
        outputMode: mode,
        estimatePrompt: () => estimatePromptTokens(messages, JSON.stringify(wire.schema)),
        repaired,
      });
      const { model } = base;
      // The cap actually sent (the default included) is the one a cut-off names.
      const outcome = judge({ label: req.label, maxTokens }, meta, completion);
      if (outcome.failure) {
        record({ ...base, error: outcome.failure.type ?? FailureType.LlmBadOutput });
        throw outcome.failure;
      }
      const checked = validate(outcome.content, req.schema, wire);
      if (checked.ok) {
        record(base);
        const usage = calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
        return { data: checked.data, usage, model, calls };
      }
      record({ ...base, error: FailureType.LlmBadOutput });
      lastProblem = checked.problem;
      conversation.push(
        { role: 'assistant', content: outcome.content },
        {
          role: 'user',
          content: `Your answer was not valid: ${checked.problem}\nAnswer again with JSON that matches the schema exactly.`,
        },
      );
    }
    throw ApplicationFailure.create({
      type: FailureType.LlmBadOutput,
      message: `${req.label}: ${lastProblem} (also after one repair call)`,
    });
  }

  /**
   * One request, repeated with an adjustment when the provider refuses a mode or parameter it
   * does not support (each refusal is recorded, logged and remembered for this base URL + model).
   */
  private async complete(
    req: StructuredRequest<z.ZodType>,
    wire: WireSchema,
    conversation: OpenAI.ChatCompletionMessageParam[],
    recordRefusal: (r: Omit<Record_, 'repaired'>) => void,
  ) {
    const baseUrl = endpointOf(this.settings);
    for (let adjusted = 0; ; adjusted++) {
      const learned = this.memory.get(baseUrl, req.model);
      const mode = laterMode(req.outputMode ?? this.settings.outputMode ?? 'json_schema', learned.mode)!;
      const temperature = learned.dropTemperature ? undefined : req.temperature;
      const cap = outputCapOf(req.maxTokens, learned);
      const stream = learned.stream ?? 'full';
      const tokenParam: TokenLimitParam | undefined =
        cap.maxTokens === undefined ? undefined : (learned.tokenParam ?? this.tokenParam());
      // Counts and patterns go to engines that enforce them; Azure and refusing endpoints get none.
      const portable = learned.portableSchema === true || this.settings.provider === 'azure';
      const schema = portable ? wireSchemaOf(req.schema, 'portable').schema : wire.schema;
      const input = { mode, schemaName: req.schemaName, schema };
      const instructions = schemaInstructions(input);
      const system = instructions ? `${req.prompt.system}\n\n${instructions}` : req.prompt.system;
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: system }, ...conversation];
      // Each HTTP call (an adapted repeat too) asks first: the run's permits and what is left of
      // the attempt bound it (see activities/context.ts).
      const bound = req.beforeCall?.()?.timeoutMs;
      const timeoutMs = bound !== undefined ? Math.min(bound, this.settings.timeoutMs) : this.settings.timeoutMs;
      const deadline = callDeadline(timeoutMs, req.signal);
      const startedAt = new Date();
      const t0 = Date.now();
      try {
        const { completion } = await streamCompletion(
          this.client,
          {
            model: req.model,
            messages,
            ...modeParams(input),
            ...(temperature !== undefined ? { temperature } : {}),
            ...(tokenParam ? { [tokenParam]: cap.maxTokens } : {}),
            ...(req.reasoningEffort ? { reasoning_effort: req.reasoningEffort } : {}),
          },
          {
            signal: deadline.signal,
            timeoutMs,
            idleMs: this.idleMs(),
            support: stream,
            ...(req.onProgress ? { onProgress: req.onProgress } : {}),
          },
        );
        return { completion, mode, messages, t0, startedAt, maxTokens: cap.maxTokens };
      } catch (err) {
        if (req.signal?.aborted) throw new CancelledFailure(`${req.label}: cancelled while waiting for the model`);
        const idle = err instanceof LlmIdleTimeoutError;
        const timedOut = idle || timedOutCall(err, deadline);
        const adjustment =
          !timedOut && adjusted < MAX_ADJUSTMENTS
            ? adjustmentFor(err, {
                mode,
                temperature: temperature !== undefined,
                tokenParam,
                stream,
                ...(cap.defaulted ? { defaultCap: cap.maxTokens } : {}),
                constrainedSchema: !portable,
              })
            : undefined;
        const failure = adjustment
          ? undefined
          : this.classify(idle ? err : timeoutOr(err, timedOut), req.label, timeoutMs);
        // A timed-out call was still paid for: its prompt tokens, estimated, and what it streamed.
        // So was a stream that broke after tokens had come (dropped, or an error event mid-answer).
        const streamed = idle ? err.tokens : streamedTokensOf(err);
        const bill = timedOut || streamed > 0 ? timedOutBill(req.model, messages, this.settings.prices, streamed) : {};
        recordRefusal({
          ...noTokens(req.model, startedAt, Date.now() - t0),
          ...bill,
          outputMode: mode,
          error: failure ? typeOf(failure) : FailureType.LlmAdapted,
        });
        if (failure || !adjustment) throw failure ?? this.classify(err, req.label, timeoutMs);
        this.memory.learn(baseUrl, req.model, adjustment.patch);
        notice(`${req.label}: ${baseUrl} model ${req.model} ${adjustment.notice} (remembered for this process)`);
      } finally {
        deadline.clear();
      }
    }
  }

  /** The inactivity limit of a call. */
  private idleMs(): number {
    return this.settings.idleTimeoutMs ?? DEFAULT_LLM_IDLE_TIMEOUT_MS;
  }

  /** The output-token parameter to send: configured, else the one the endpoint is known to take. */
  private tokenParam(): TokenLimitParam {
    if (this.settings.tokenParam) return this.settings.tokenParam;
    const official = this.settings.provider === 'azure' || endpointOf(this.settings).includes('api.openai.com');
    // OpenAI's reasoning models refuse max_tokens; local engines (llama.cpp, Ollama, vLLM) all read it.
    return official ? 'max_completion_tokens' : 'max_tokens';
  }

  private classify(err: unknown, label: string, timeoutMs = this.settings.timeoutMs): ApplicationFailure {
    return classifyLlmError(err, {
      label,
      endpoint: endpointOf(this.settings),
      keyVariable: keyVariableOf(this.settings),
      timeoutMs,
      idleTimeoutMs: this.idleMs(),
    });
  }
}

/** Says what was adapted: in the activity's log inside a worker, else on stderr. */
function notice(message: string): void {
  try {
    Context.current().log.warn(message);
  } catch {
    console.warn(`maestro: ${message}`);
  }
}

/** The record fields of a call that got an answer: the model that answered, tokens, dollars, timing. */
export function answeredCall(args: {
  completion: OpenAI.ChatCompletion;
  asked: string;
  prices: LlmSettings['prices'];
  startedAt: Date;
  t0: number;
  repaired: boolean;
  /** Structured-output mode of the request, for the record. */
  outputMode?: string;
  /** Prompt tokens by a tokenizer, for providers that send no usage. */
  estimatePrompt?: () => number;
}) {
  const tokens = callTokensOf(args.completion, args.estimatePrompt ?? (() => 0));
  const model = args.completion.model || args.asked;
  return {
    model,
    promptTokens: tokens.promptTokens,
    cachedTokens: tokens.cachedTokens,
    completionTokens: tokens.completionTokens,
    ...(tokens.reasoningTokens > 0 ? { reasoningTokens: tokens.reasoningTokens } : {}),
    ...(tokens.estimated ? { estimated: true } : {}),
    ...(args.outputMode ? { outputMode: args.outputMode } : {}),
    usd: costOf(priceFor(args.asked, args.prices) ? args.asked : model, tokens, args.prices),
    latencyMs: Date.now() - args.t0,
    startedAt: args.startedAt.toISOString(),
    repaired: args.repaired,
  };
}

/** A call record's token fields for a call that got no answer (`repaired` added by the caller when absent). */
export function noTokens(model: string, startedAt: Date, latencyMs: number, repaired?: boolean) {
  return {
    model,
    promptTokens: 0,
    cachedTokens: 0,
    completionTokens: 0,
    usd: 0,
    latencyMs,
    startedAt: startedAt.toISOString(),
    ...(repaired !== undefined ? { repaired } : {}),
  };
}

/** The failure type to record for an error of a call. */
export function typeOf(err: unknown): string {
  return err instanceof ApplicationFailure && err.type ? err.type : FailureType.LlmUnavailable;
}

/** Refusals, content filters and truncation are failures of their own; else the text to validate. */
export function judge(
  req: Pick<StructuredRequest<z.ZodType>, 'label' | 'maxTokens'>,
  meta: CallMeta,
  completion: OpenAI.ChatCompletion,
): { failure: ApplicationFailure; content?: undefined } | { failure?: undefined; content: string } {
  const choice = completion.choices[0];
  if (!choice) return { content: '' };
  const refusal = choice.message.refusal;
  if (refusal || choice.finish_reason === 'content_filter') {
    const why = refusal ? `the model refused: ${refusal}` : "the provider's content filter stopped the answer";
    return {
      failure: ApplicationFailure.create({
        type: FailureType.LlmRefused,
        message: `${req.label}: ${why} — rephrase the ticket or choose another model for this role. Not retried.`,
        nonRetryable: true,
      }),
    };
  }
  if (choice.finish_reason === 'length') {
    // Sampling (and reasoning budgets) vary, so one more attempt may fit; a second cut will not.
    const last = meta.attempt >= 2;
    const limit = req.maxTokens !== undefined ? ` (${req.maxTokens} tokens)` : '';
    return {
      failure: ApplicationFailure.create({
        type: FailureType.LlmTruncated,
        message: `${req.label}: the answer was cut off at the output-token limit${limit}; ${
          last ? `${cutOffAdvice(meta)} Not retried again.` : 'retrying once'
        }`,
        nonRetryable: last,
      }),
    };
  }
  return { content: answerText(choice.message) };
}

/**
 * What to change after a second cut-off, in the caller's own terms: the Boss is configured under
 * `boss` (it is not a role), and while it plans there is no ticket to make smaller.
 */
export function cutOffAdvice(meta: Pick<CallMeta, 'kind' | 'role'>): string {
  if (meta.role !== BOSS_ROLE)
    return `raise "maxTokens" of role ${meta.role} in maestro.config.json or make the ticket smaller.`;
  const setting = 'raise the Boss\'s "maxTokens" ("boss": {"maxTokens": ...} in maestro.config.json)';
  if (meta.kind === 'plan')
    return `${setting}, or give a smaller goal; a model that repeats itself until the limit needs a stronger Boss model ("boss": {"model": ...}).`;
  if (meta.kind === 'review') return `${setting} or make the ticket smaller.`;
  return `${setting}.`;
}

/** Parses and checks an answer against the schema; the problem text feeds the repair message. */
export function validate<T extends z.ZodType>(
  content: string,
  schema: T,
  wire: WireSchema,
): { ok: true; data: z.infer<T> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    return { ok: false, problem: `the answer is not JSON (${(err as Error).message})` };
  }
  const parsed = schema.safeParse(wire.restore(json));
  if (parsed.success) return { ok: true, data: parsed.data };
  const issues = parsed.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, problem: `the JSON does not match the schema: ${issues.join('; ')}` };
}
