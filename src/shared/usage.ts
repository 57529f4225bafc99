/**
 * Token and cost accounting. Every LLM call returns a `Usage`; workflows add them up per
 * ticket, role and run with these pure helpers.
 */
import type { LlmCallRecord } from './types';

/** Tokens and dollars of one or more LLM calls. */
export interface Usage {
  /** Tokens sent to the model (cached ones included). */
  promptTokens: number;
  /** Of `promptTokens`, those the provider served from its prompt cache (billed cheaper). */
  cachedTokens: number;
  /** Tokens the model wrote. */
  completionTokens: number;
  /** Cost in US dollars at the configured prices, rounded to a millionth (e.g. `ticket.usage.usd`). */
  usd: number;
  /** LLM calls made. */
  calls: number;
}

/** A usage with nothing spent, the identity for `addUsage`. */
export function emptyUsage(): Usage {
  return { promptTokens: 0, cachedTokens: 0, completionTokens: 0, usd: 0, calls: 0 };
}

/** Sum of two usages (a new object; inputs are left alone). */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    usd: roundUsd(a.usd + b.usd),
    calls: a.calls + b.calls,
  };
}

/** Total tokens billed (prompt + completion). */
export function totalTokens(u: Usage): number {
  return u.promptTokens + u.completionTokens;
}

/** Dollars rounded to a millionth, so sums stay readable and stable across replays. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/** Whether a usage holds anything: a call, a token or a cent. */
export function hasUsage(u: Usage): boolean {
  return u.calls > 0 || u.usd > 0 || totalTokens(u) > 0;
}

/** `a - b`, floored at zero field by field (for booking the part of a usage not yet booked). */
export function subtractUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: Math.max(0, a.promptTokens - b.promptTokens),
    cachedTokens: Math.max(0, a.cachedTokens - b.cachedTokens),
    completionTokens: Math.max(0, a.completionTokens - b.completionTokens),
    usd: Math.max(0, roundUsd(a.usd - b.usd)),
    calls: Math.max(0, a.calls - b.calls),
  };
}

/** The usage of one recorded LLM call. */
export function usageOfRecord(r: LlmCallRecord): Usage {
  const { promptTokens, cachedTokens, completionTokens, usd } = r;
  return { promptTokens, cachedTokens, completionTokens, usd, calls: 1 };
}
