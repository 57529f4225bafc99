/**
 * What Maestro has learned about a provider's model while running: that it refuses a
 * structured-output mode, `temperature`, one of the two output-token parameters, or streaming
 * (`stream`, or just `stream_options`). A 400 that
 * says so is turned into one adjusted retry, and the lesson is kept per base URL and model for
 * the rest of the process, so later calls go right the first time instead of paying for a refusal.
 */
import OpenAI from 'openai';
import { z } from 'zod';
import { nextOutputMode, OUTPUT_MODE_ORDER, type OutputMode } from './output-modes';
import type { StreamSupport } from './stream-call';

/** The request parameter that carries the output-token limit. */
export const TokenLimitParam = z.enum(['max_tokens', 'max_completion_tokens']);
export type TokenLimitParam = z.infer<typeof TokenLimitParam>;

/** What was learned about one base URL + model. */
export interface Adaptation {
  /** The first mode it did not refuse (only ever moves down the fallback order). */
  mode?: OutputMode;
  /** It refuses a `temperature` other than its default. */
  dropTemperature?: boolean;
  /** The output-token parameter it accepts. */
  tokenParam?: TokenLimitParam;
  /** How it takes streaming (unset: fully, with `stream_options.include_usage`). */
  stream?: StreamSupport;
}

/** What a request was sent with, to decide which change a refusal asks for. */
export interface SentRequest {
  mode: OutputMode;
  temperature: boolean;
  tokenParam?: TokenLimitParam;
  /** Streaming as sent (unset: fully). */
  stream?: StreamSupport;
}

/** One change to make after a refusal, with the sentence that goes to the log. */
export interface Adjustment {
  patch: Adaptation;
  notice: string;
}

const REFUSED =
  /not supported|unsupported|does not support|not available|not allowed|unrecognized|unknown|extra inputs|only the default|not permitted|must be/;

function refusalText(err: unknown): string | undefined {
  if (!(err instanceof OpenAI.APIError) || (err.status !== 400 && err.status !== 422)) return undefined;
  const text = [err.message, err.param, err.code]
    .filter((s) => typeof s === 'string')
    .join(' ')
    .toLowerCase();
  return REFUSED.test(text) ? text : undefined;
}

/**
 * The change a provider's 400 asks for, or undefined when it is not a refusal of something we
 * can do without (then the error is a real configuration problem and stops the call).
 */
export function adjustmentFor(err: unknown, sent: SentRequest): Adjustment | undefined {
  const text = refusalText(err);
  if (text === undefined) return undefined;
  if (sent.temperature && text.includes('temperature'))
    return { patch: { dropTemperature: true }, notice: 'refuses "temperature"; retrying without it' };
  if (sent.tokenParam === 'max_tokens' && /max_tokens(?!_)/.test(text.replace(/max_completion_tokens/g, '')))
    return {
      patch: { tokenParam: 'max_completion_tokens' },
      notice: 'refuses "max_tokens"; retrying with "max_completion_tokens"',
    };
  if (sent.tokenParam === 'max_completion_tokens' && text.includes('max_completion_tokens'))
    return {
      patch: { tokenParam: 'max_tokens' },
      notice: 'refuses "max_completion_tokens"; retrying with "max_tokens"',
    };
  const stream = sent.stream ?? 'full';
  if (stream === 'full' && /stream_options|include_usage/.test(text))
    return {
      patch: { stream: 'no-usage' },
      notice: 'refuses "stream_options"; streaming without it (usage is counted when the server sends none)',
    };
  if (stream !== 'off' && /\bstream(ing)?\b/.test(text))
    return {
      patch: { stream: 'off' },
      notice: 'refuses streaming; calling it without (no idle timeout, no live progress)',
    };
  const next = nextOutputMode(sent.mode);
  if (next && /response_format|json_schema|json_object|structured|tool|function/.test(text))
    return {
      patch: { mode: next },
      notice: `does not support structured-output mode "${sent.mode}"; falling back to "${next}"`,
    };
  return undefined;
}

/** Lessons per base URL + model, for the life of the process. */
export class ProviderMemory {
  private readonly lessons = new Map<string, Adaptation>();

  private static key(baseUrl: string, model: string): string {
    return `${baseUrl} ${model}`;
  }

  /** What is known about this base URL + model (empty when nothing was learned). */
  get(baseUrl: string, model: string): Adaptation {
    return { ...this.lessons.get(ProviderMemory.key(baseUrl, model)) };
  }

  /** Records a lesson; a mode only ever moves further down the fallback order. */
  learn(baseUrl: string, model: string, patch: Adaptation): void {
    const key = ProviderMemory.key(baseUrl, model);
    const known = this.lessons.get(key) ?? {};
    const mode = laterMode(known.mode, patch.mode);
    this.lessons.set(key, { ...known, ...patch, ...(mode ? { mode } : {}) });
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.lessons.clear();
  }
}

/** The later of two modes in the fallback order. */
export function laterMode(a: OutputMode | undefined, b: OutputMode | undefined): OutputMode | undefined {
  if (!a || !b) return a ?? b;
  return OUTPUT_MODE_ORDER.indexOf(a) >= OUTPUT_MODE_ORDER.indexOf(b) ? a : b;
}

/** The process-wide memory every `StructuredLlm` shares. */
export const providerMemory = new ProviderMemory();
