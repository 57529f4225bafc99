/**
 * How much of each call's prompt repeats the start of an earlier call, computed from the
 * simulated LLM's request log: the measure of how cache-friendly Maestro's prompts are, apart
 * from any provider's caching rules (OpenAI caches only from 1,024 tokens, in 128-token steps;
 * the simulator's reported `cached_tokens` follow those rules and are shown beside it).
 */
import type { SimRequestRecord } from '../dev/sim-llm';
import { costOf } from '../activities/llm/pricing';

/** Characters per token, as the simulator counts them. */
const CHARS_PER_TOKEN = 4;

/** One answered call as the cache table needs it. */
export interface PrefixCall {
  role: string;
  model: string;
  promptTokens: number;
  /** Tokens at the start of the prompt that an earlier call (same model) began with too. */
  repeatedTokens: number;
  /** What the provider (here the simulator) reported as cached. */
  cachedTokens: number;
  completionTokens: number;
}

/** The prompt text the simulator counts and caches: the messages' texts, joined. */
export function promptTextOf(r: Pick<SimRequestRecord, 'messages'>): string {
  return r.messages.map((m) => m.content).join('');
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * The answered calls (status 200 with usage) in the order they were received, each with its
 * repeated prefix; `roleOf` names the role a call was made for.
 */
export function prefixCalls(
  records: readonly SimRequestRecord[],
  roleOf: (r: SimRequestRecord) => string,
): PrefixCall[] {
  const answered = records.filter((r) => r.status === 200 && r.usage).sort((a, b) => a.seq - b.seq);
  const earlier = new Map<string, string[]>();
  return answered.map((r) => {
    const text = promptTextOf(r);
    const seen = earlier.get(r.model) ?? [];
    const shared = seen.reduce((best, s) => Math.max(best, commonPrefix(s, text)), 0);
    seen.push(text);
    earlier.set(r.model, seen);
    const promptTokens = r.usage?.prompt_tokens ?? 0;
    return {
      role: roleOf(r),
      model: r.model,
      promptTokens,
      repeatedTokens: Math.min(promptTokens, Math.floor(shared / CHARS_PER_TOKEN)),
      cachedTokens: r.usage?.cached_tokens ?? 0,
      completionTokens: r.usage?.completion_tokens ?? 0,
    };
  });
}

/** One role's totals: tokens, shares and the bill with and without the provider's caching. */
export interface PrefixRow {
  role: string;
  calls: number;
  promptTokens: number;
  repeatedTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** Dollars as billed: cached tokens at the cached price. */
  usdCached: number;
  /** Dollars had no prompt token been cached. */
  usdUncached: number;
}

/** Totals per role (in first-seen order) and an `all` row last. */
export function prefixRows(calls: readonly PrefixCall[]): PrefixRow[] {
  const rows = new Map<string, PrefixRow>();
  const add = (key: string, c: PrefixCall) => {
    const row = rows.get(key) ?? {
      role: key,
      calls: 0,
      promptTokens: 0,
      repeatedTokens: 0,
      cachedTokens: 0,
      completionTokens: 0,
      usdCached: 0,
      usdUncached: 0,
    };
    row.calls++;
    row.promptTokens += c.promptTokens;
    row.repeatedTokens += c.repeatedTokens;
    row.cachedTokens += c.cachedTokens;
    row.completionTokens += c.completionTokens;
    row.usdCached += costOf(c.model, c);
    row.usdUncached += costOf(c.model, { ...c, cachedTokens: 0 });
    rows.set(key, row);
  };
  for (const c of calls) add(c.role, c);
  for (const c of calls) add('all', c);
  const all = rows.get('all');
  rows.delete('all');
  return [...rows.values(), ...(all ? [all] : [])];
}
