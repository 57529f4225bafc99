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
  /**
   * The default output cap it accepts, when it refused DEFAULT_MAX_TOKENS: the limit its 400
   * named, or `none` (send no cap) when it named none. A configured cap is never changed.
   */
  defaultCap?: number | 'none';
  /** It refuses the counts and patterns of the constrained wire schema (send the portable one). */
  portableSchema?: boolean;
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
  /** The output cap sent when it was Maestro's default (unset: none, or the configured one). */
  defaultCap?: number;
  /** The schema sent kept `minItems`, `maxItems` and `pattern` (wire-schema.ts). */
  constrainedSchema?: boolean;
}

/**
 * Output tokens of one answer when no `maxTokens` is configured, for every role and the Boss: a
 * model that repeats itself stops here and is reported as cut off, instead of generating until
 * the call's timeout and being retried while the server is still busy.
 */
export const DEFAULT_MAX_TOKENS = 8192;

/** A 400 about the size of the output cap (not about the parameter's name). */
const CAP_PARAM =
  /max_tokens|max_completion_tokens|max_output_tokens|max_new_tokens|completion tokens|output tokens|in the completion/;
const TOO_LARGE =
  /too large|too big|too high|at most|maximum|exceed|less than or equal|<=|≤|greater than|> ?\d|context length|context window|too many/;

/**
 * The output cap a provider's 400 names as its limit, below what was sent: "supports at most 4096
 * completion tokens" (OpenAI), "8192 > 4096, which is the maximum allowed" (Anthropic's OpenAI
 * layer), "must be less than or equal to 4096", and so on. A context-length refusal (vLLM: "maximum
 * context length is 2048 tokens ... 8192 in the completion") names no fixed limit: the room left
 * depends on each prompt, so none is taken from it (the cap is dropped instead).
 */
export function namedOutputLimit(text: string, sent: number): number | undefined {
  if (/context length|context window/.test(text)) return undefined;
  const named = [
    new RegExp(`at most ${NUMBER}`),
    // Bounded words: `[a-z ]+` backtracked quadratically over a huge body of "maximum number of ".
    new RegExp(`maximum(?: allowed)?(?: value| number of [a-z ]{1,60})?(?: is| of)? ${NUMBER}`),
    new RegExp(`> ?${NUMBER}`),
    new RegExp(`(?:less than or equal to|<=|≤|not exceed|cannot exceed|must not be greater than) ?${NUMBER}`),
  ]
    .map((re) => re.exec(text)?.[1])
    .filter((n): n is string => n !== undefined)
    // The whole number as written: "4,096" is 4096 (not 4), "1e30" is 1e30 (not 1).
    .map((n) => Number(n.replace(/[,_]/g, '')))
    .filter((n) => Number.isInteger(n) && n >= 1 && n < sent);
  return named.length > 0 ? Math.min(...named) : undefined;
}

/** A number as a 400 may write it: digit groups ("4,096", "4_096"), a fraction or an exponent. */
const NUMBER = '(\\d[\\d,_]*(?:\\.\\d+)?(?:e[+-]?\\d+)?)';

/**
 * Characters of an error's text that are read for a refusal: real ones say it in a sentence, and
 * a hostile server's megabytes must not cost the worker's event loop (the text is searched by
 * several patterns on every refused call).
 */
const MAX_REFUSAL_CHARS = 4_000;

/** One change to make after a refusal, with the sentence that goes to the log. */
export interface Adjustment {
  patch: Adaptation;
  notice: string;
}

const REFUSED =
  /not supported|unsupported|does not support|not available|not allowed|unrecognized|unknown|extra inputs|only the default|not permitted|must be/;

/** A 400/422's message, param and code, lower-case and bounded (a hostile server's body can be megabytes). */
function badRequestText(err: unknown): string | undefined {
  if (!(err instanceof OpenAI.APIError) || (err.status !== 400 && err.status !== 422)) return undefined;
  return [err.message, err.param, err.code]
    .filter((s) => typeof s === 'string')
    .join(' ')
    .slice(0, MAX_REFUSAL_CHARS)
    .toLowerCase();
}

function refusalText(err: unknown): string | undefined {
  const text = badRequestText(err);
  return text !== undefined && REFUSED.test(text) ? text : undefined;
}

/**
 * The change a provider's 400 asks for, or undefined when it is not a refusal of something we
 * can do without (then the error is a real configuration problem and stops the call).
 */
export function adjustmentFor(err: unknown, sent: SentRequest): Adjustment | undefined {
  const cap = sent.defaultCap !== undefined ? capAdjustment(err, sent.defaultCap) : undefined;
  if (cap) return cap;
  const text = refusalText(err);
  if (text === undefined) return undefined;
  // A configured cap too large for the model is the person's to change (the error says so), not a
  // refusal of the parameter's name.
  if (CAP_PARAM.test(text) && TOO_LARGE.test(text)) return undefined;
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
  // Before the mode: "'minItems' is not permitted in response_format" is about the schema, not the mode.
  if (sent.constrainedSchema && /minitems|maxitems|pattern/.test(text))
    return {
      patch: { portableSchema: true },
      notice: 'refuses "minItems", "maxItems" or "pattern" in the schema; retrying without them',
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

/**
 * The default cap refused as too large: lower it to the limit the provider names, else send none.
 * Maestro's default must never make a provider fail that worked without it.
 */
function capAdjustment(err: unknown, sent: number): Adjustment | undefined {
  const text = badRequestText(err);
  if (text === undefined || !CAP_PARAM.test(text) || !TOO_LARGE.test(text)) return undefined;
  const limit = namedOutputLimit(text, sent);
  return limit !== undefined
    ? {
        patch: { defaultCap: limit },
        notice: `refuses the default output cap of ${sent} tokens; retrying with ${limit}, the limit it names`,
      }
    : {
        patch: { defaultCap: 'none' },
        notice: `refuses the default output cap of ${sent} tokens; retrying without a cap (set "maxTokens" to choose one)`,
      };
}

/** The output cap to send: the configured one, else the default (or what the provider was found to take). */
export function outputCapOf(
  configured: number | undefined,
  learned: Adaptation,
): { maxTokens?: number; defaulted: boolean } {
  if (configured !== undefined) return { maxTokens: configured, defaulted: false };
  if (learned.defaultCap === 'none') return { defaulted: false };
  return { maxTokens: learned.defaultCap ?? DEFAULT_MAX_TOKENS, defaulted: true };
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
