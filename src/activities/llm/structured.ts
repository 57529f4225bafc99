/**
 * The one way Maestro talks to a model: a chat completion whose answer must match a zod
 * schema. We send `zodResponseFormat` (the widest-supported structured-output form) through
 * `chat.completions.create` and validate ourselves, so a bad answer's tokens are still counted
 * and the answer can be shown to the model once for repair. Every HTTP call becomes an
 * `LlmCallRecord`, failed ones included.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { z } from 'zod';
import { FailureType } from '../../shared/errors';
import type { LlmCallKind, LlmCallRecord } from '../../shared/types';
import { addUsage, emptyUsage, usageOfRecord, type Usage } from '../../shared/usage';
import type { Prompt } from '../roles/prompts';
import { createOpenAiClient, endpointOf, keyVariableOf, type LlmSettings } from './client';
import { classifyLlmError } from './errors';
import { costOf, priceFor } from './pricing';

export type { LlmSettings } from './client';

/** Who makes a call and in which activity attempt, for the call records. */
export interface CallMeta {
  kind: LlmCallKind;
  role: string;
  ticketId?: string;
  attempt: number;
  taskQueue?: string;
  workerIdentity?: string;
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
  signal?: AbortSignal;
  /** Who is calling (default: a 'work' call of role 'unknown', attempt 1). */
  meta?: CallMeta;
  /** Told about each call as soon as it ends, so the caller can keep it even if a later one fails. */
  onCall?: (record: LlmCallRecord) => void;
}

/** A validated answer with what it cost (repair calls included). */
export interface StructuredResponse<T> {
  data: T;
  usage: Usage;
  model: string;
  /** The HTTP calls this answer took (one, or two with a repair). */
  calls: LlmCallRecord[];
}

const DEFAULT_META: CallMeta = { kind: 'work', role: 'unknown', attempt: 1 };

/** Thin wrapper over the openai client; Temporal owns retries, so the client makes one attempt. */
export class StructuredLlm {
  private readonly client: OpenAI;

  constructor(private readonly settings: LlmSettings) {
    this.client = createOpenAiClient(settings);
  }

  /** Calls the model; on invalid output, makes one repair call with the validation error. */
  async call<T extends z.ZodType>(req: StructuredRequest<T>): Promise<StructuredResponse<z.infer<T>>> {
    const meta = req.meta ?? DEFAULT_META;
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: req.prompt.system },
      { role: 'user', content: req.prompt.user },
    ];
    const calls: LlmCallRecord[] = [];
    const record = (r: Omit<LlmCallRecord, keyof CallMeta | 'attempt'>) => {
      const full: LlmCallRecord = { ...r, ...meta };
      calls.push(full);
      req.onCall?.(full);
    };
    let lastProblem = '';
    for (let round = 0; round < 2; round++) {
      const repaired = round > 0;
      const startedAt = new Date();
      const t0 = Date.now();
      let completion: OpenAI.ChatCompletion;
      try {
        completion = await this.complete(req, messages);
      } catch (err) {
        if (!(err instanceof CancelledFailure))
          record({ ...noTokens(req.model, startedAt, Date.now() - t0, repaired), error: typeOf(err) });
        throw err;
      }
      const base = answeredCall({
        completion,
        asked: req.model,
        prices: this.settings.prices,
        startedAt,
        t0,
        repaired,
      });
      const { model } = base;
      const outcome = judge(req, meta, completion);
      if (outcome.failure) {
        record({ ...base, error: outcome.failure.type ?? FailureType.LlmBadOutput });
        throw outcome.failure;
      }
      const checked = validate(outcome.content, req.schema);
      if (checked.ok) {
        record(base);
        const usage = calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
        return { data: checked.data, usage, model, calls };
      }
      record({ ...base, error: FailureType.LlmBadOutput });
      lastProblem = checked.problem;
      messages.push(
        { role: 'assistant', content: outcome.content },
        {
          role: 'user',
          content: `Your answer was not valid: ${checked.problem}\nAnswer again with JSON that matches the schema exactly.`,
        },
      );
    }
    throw ApplicationFailure.create({
      type: FailureType.LlmBadOutput,
      message: `${req.label}: ${lastProblem} (also after one repair attempt); will retry`,
    });
  }

  private async complete(req: StructuredRequest<z.ZodType>, messages: OpenAI.ChatCompletionMessageParam[]) {
    try {
      return await this.client.chat.completions.create(
        {
          model: req.model,
          messages,
          response_format: zodResponseFormat(req.schema, req.schemaName),
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          ...(req.maxTokens !== undefined ? { max_completion_tokens: req.maxTokens } : {}),
        },
        { signal: req.signal },
      );
    } catch (err) {
      if (req.signal?.aborted) throw new CancelledFailure(`${req.label}: cancelled while waiting for the model`);
      throw classifyLlmError(err, {
        label: req.label,
        endpoint: endpointOf(this.settings),
        keyVariable: keyVariableOf(this.settings),
        timeoutMs: this.settings.timeoutMs,
      });
    }
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
}) {
  const tokens = tokensOf(args.completion);
  const model = args.completion.model || args.asked;
  return {
    model,
    ...tokens,
    usd: costOf(priceFor(args.asked, args.prices) ? args.asked : model, tokens, args.prices),
    latencyMs: Date.now() - args.t0,
    startedAt: args.startedAt.toISOString(),
    repaired: args.repaired,
  };
}

/** A call record's token fields for a call that got no answer. */
export function noTokens(model: string, startedAt: Date, latencyMs: number, repaired: boolean) {
  return {
    model,
    promptTokens: 0,
    cachedTokens: 0,
    completionTokens: 0,
    usd: 0,
    latencyMs,
    startedAt: startedAt.toISOString(),
    repaired,
  };
}

/** The failure type to record for an error of a call. */
export function typeOf(err: unknown): string {
  return err instanceof ApplicationFailure && err.type ? err.type : FailureType.LlmUnavailable;
}

/** Token counts of a completion as the call records keep them. */
export function tokensOf(completion: OpenAI.ChatCompletion) {
  const u = completion.usage;
  return {
    promptTokens: u?.prompt_tokens ?? 0,
    cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
    completionTokens: u?.completion_tokens ?? 0,
  };
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
          last
            ? `raise "maxTokens" of role ${meta.role} in maestro.config.json or make the ticket smaller. Not retried again.`
            : 'retrying once'
        }`,
        nonRetryable: last,
      }),
    };
  }
  return { content: choice.message.content ?? '' };
}

/** Parses and checks an answer against the schema; the problem text feeds the repair message. */
export function validate<T extends z.ZodType>(
  content: string,
  schema: T,
): { ok: true; data: z.infer<T> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (err) {
    return { ok: false, problem: `the answer is not JSON (${(err as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issues = parsed.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, problem: `the JSON does not match the schema: ${issues.join('; ')}` };
}
