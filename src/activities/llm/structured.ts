/**
 * The one way Maestro talks to a model: a chat completion whose answer must match a zod
 * schema. We send `zodResponseFormat` (the widest-supported structured-output form) through
 * `chat.completions.create` and validate ourselves, so a bad answer's tokens are still counted
 * and the answer can be shown to the model once for repair.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { z } from 'zod';
import { FailureType } from '../../shared/errors';
import { addUsage, emptyUsage, type Usage } from '../../shared/usage';
import { classifyLlmError } from './errors';
import { costOf, type ModelPrice } from './pricing';
import type { Prompt } from '../roles/prompts';

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
}

/** A validated answer with what it cost (repair calls included). */
export interface StructuredResponse<T> {
  data: T;
  usage: Usage;
  model: string;
  latencyMs: number;
}

/** Settings of the provider connection. */
export interface LlmSettings {
  baseUrl?: string;
  apiKey?: string;
  timeoutMs: number;
  prices?: Readonly<Record<string, ModelPrice>>;
}

/** Thin wrapper over the openai client; Temporal owns retries, so the client makes one attempt. */
export class StructuredLlm {
  private readonly client: OpenAI;

  constructor(private readonly settings: LlmSettings) {
    this.client = new OpenAI({
      baseURL: settings.baseUrl,
      apiKey: settings.apiKey ?? 'not-needed',
      maxRetries: 0,
      timeout: settings.timeoutMs,
    });
  }

  /** Calls the model; on invalid output, makes one repair call with the validation error. */
  async call<T extends z.ZodType>(req: StructuredRequest<T>): Promise<StructuredResponse<z.infer<T>>> {
    const started = Date.now();
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: req.prompt.system },
      { role: 'user', content: req.prompt.user },
    ];
    let usage = emptyUsage();
    let lastProblem = '';
    for (let round = 0; round < 2; round++) {
      const completion = await this.complete(req, messages);
      usage = addUsage(usage, this.usageOf(req.model, completion));
      const choice = completion.choices[0];
      if (!choice) throw badOutput(req.label, 'the response had no choices');
      if (choice.message.refusal) {
        throw ApplicationFailure.create({
          type: FailureType.LlmRefused,
          message: `${req.label}: the model refused: ${choice.message.refusal}`,
          nonRetryable: true,
        });
      }
      if (choice.finish_reason === 'length') {
        throw ApplicationFailure.create({
          type: FailureType.LlmTruncated,
          message: `${req.label}: the answer was cut off at the output-token limit; raise the role's max output tokens or make the ticket smaller`,
        });
      }
      const content = choice.message.content ?? '';
      const checked = validate(content, req.schema);
      if (checked.ok)
        return { data: checked.data, usage, model: completion.model || req.model, latencyMs: Date.now() - started };
      lastProblem = checked.problem;
      messages.push(
        { role: 'assistant', content },
        {
          role: 'user',
          content: `Your answer was not valid: ${checked.problem}\nAnswer again with JSON that matches the schema exactly.`,
        },
      );
    }
    throw badOutput(req.label, `${lastProblem} (also after one repair attempt)`);
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
      throw classifyLlmError(err, req.label);
    }
  }

  private usageOf(model: string, completion: OpenAI.ChatCompletion): Usage {
    const u = completion.usage;
    const tokens = {
      promptTokens: u?.prompt_tokens ?? 0,
      cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
      completionTokens: u?.completion_tokens ?? 0,
    };
    return { ...tokens, usd: costOf(model, tokens, this.settings.prices), calls: 1 };
  }
}

function validate<T extends z.ZodType>(
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

function badOutput(label: string, problem: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.LlmBadOutput, message: `${label}: ${problem}; will retry` });
}
