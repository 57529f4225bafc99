/**
 * Dollar cost of LLM calls. Prices are USD per million tokens; a call's cost is computed when it
 * returns so runs can stop on budgets without asking the provider.
 */
import { roundUsd } from '../../shared/usage';

/** Price of one model in USD per million tokens. */
export interface ModelPrice {
  input: number;
  cachedInput: number;
  output: number;
}

/**
 * Default list prices (USD / 1M tokens). `maestro-sim` is priced like gpt-4.1-mini so offline
 * runs show realistic-looking numbers; they are labelled simulated wherever shown.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'maestro-sim': { input: 0.4, cachedInput: 0.1, output: 1.6 },
};

/**
 * Looks up a model's price, also for dated snapshots such as `gpt-4o-2024-08-06` and for
 * router names such as `openai/gpt-4o-mini` (OpenRouter) when only the bare name is listed.
 */
export function priceFor(
  model: string,
  table: Readonly<Record<string, ModelPrice>> = DEFAULT_PRICES,
): ModelPrice | undefined {
  if (table[model]) return table[model];
  const base = Object.keys(table)
    .filter((k) => model.startsWith(`${k}-`))
    .sort((a, b) => b.length - a.length)[0];
  if (base) return table[base];
  const slash = model.lastIndexOf('/');
  return slash >= 0 ? priceFor(model.slice(slash + 1), table) : undefined;
}

/** The built-in table with the configuration's overrides on top. */
export function priceTable(overrides: Readonly<Record<string, ModelPrice>> = {}): Record<string, ModelPrice> {
  return { ...DEFAULT_PRICES, ...overrides };
}

/** Cost of one call; cached prompt tokens are billed at the cached rate. Unknown models cost 0. */
export function costOf(
  model: string,
  tokens: { promptTokens: number; cachedTokens: number; completionTokens: number },
  table?: Readonly<Record<string, ModelPrice>>,
): number {
  const p = priceFor(model, table);
  if (!p) return 0;
  const uncached = Math.max(0, tokens.promptTokens - tokens.cachedTokens);
  return roundUsd(
    (uncached * p.input + tokens.cachedTokens * p.cachedInput + tokens.completionTokens * p.output) / 1e6,
  );
}
