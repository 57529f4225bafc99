/**
 * The live LLM lines of `maestro watch` and `maestro run`: what an LLM activity heartbeats while
 * its answer streams (`llm: {tokens, tokensPerSecond, startedAt}`, activities/context.ts), and
 * the retries of pending activities as they happen (`attempt`, `lastFailure`). Read through the
 * same describe-and-decode path as the coding-agent CLI progress (pending-activities.ts); every
 * field is checked, and failure text (partly a model's or its server's words) is made one bounded
 * terminal line before it is shown.
 */
import { boundedLine, count, shortCount } from './executor-progress';
import type { PendingActivity } from './pending-activities';

/** A streaming call's progress as the watcher shows it (checked). */
export interface LlmProgressView {
  tokens: number;
  tokensPerSecond: number;
  /** Seconds since the call started (absent when the start was not a date). */
  startedAt?: string;
}

/** A retry in progress: which attempt of how many, after what. */
export interface RetryView {
  /** What is retried: `plan`, `T3 work`, `T3 review`, ... */
  what: string;
  attempt: number;
  maximumAttempts?: number;
  reason: string;
}

/** Highest rate read as one. */
const MAX_RATE = 1e6;
/** Longest failure reason shown. */
const MAX_REASON = 200;
/** Longest failure reason kept (watch --json prints it whole; a forged worker can write megabytes). */
const MAX_REASON_KEPT = 2_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `llm` progress in heartbeat details, or undefined when absent or not of that shape. */
export function parseLlmProgress(details: unknown): LlmProgressView | undefined {
  if (!isObj(details) || !isObj(details.llm)) return undefined;
  const l = details.llm;
  const tokens = count(l.tokens);
  if (tokens === undefined) return undefined;
  const rate = l.tokensPerSecond;
  const tokensPerSecond =
    typeof rate === 'number' && Number.isFinite(rate) && rate >= 0 && rate <= MAX_RATE ? Math.round(rate * 10) / 10 : 0;
  const started = typeof l.startedAt === 'string' && l.startedAt.length <= 40 ? Date.parse(l.startedAt) : NaN;
  return {
    tokens,
    tokensPerSecond,
    ...(Number.isFinite(started) ? { startedAt: new Date(started).toISOString() } : {}),
  };
}

/** `T2 [coder] model: 1.2k tokens, 14.5 tok/s, 12 s` (one bounded terminal line). */
export function llmProgressLine(ticketId: string, role: string, p: LlmProgressView, now = Date.now()): string {
  const secs = p.startedAt ? Math.max(0, Math.round((now - Date.parse(p.startedAt)) / 1000)) : undefined;
  const parts = [
    `${shortCount(p.tokens)} tokens`,
    `${p.tokensPerSecond} tok/s`,
    ...(secs !== undefined && secs < 1e7 ? [`${secs} s`] : []),
  ];
  return boundedLine(`${ticketId} [${role}] model: ${parts.join(', ')}`);
}

/** What an LLM activity is called in a retry line. */
const ACTIVITY_WORDS: Readonly<Record<string, string>> = {
  planGoal: 'plan',
  finalizeRun: 'final report',
  performTicket: 'work',
  reviewTicket: 'review',
  agentTurn: 'turn',
  runExecutor: 'coding agent',
};

/** The retry of one pending activity (attempt 2 or later, with its last failure), else undefined. */
export function retryOf(key: string, a: PendingActivity): RetryView | undefined {
  if (a.attempt < 2 || !a.lastFailure) return undefined;
  const word = ACTIVITY_WORDS[a.type] ?? a.type.slice(0, 40);
  return {
    what: key === 'plan' ? 'plan' : `${key} ${word}`,
    attempt: a.attempt,
    ...(a.maximumAttempts ? { maximumAttempts: a.maximumAttempts } : {}),
    reason: a.lastFailure.length > MAX_REASON_KEPT ? `${a.lastFailure.slice(0, MAX_REASON_KEPT)}…` : a.lastFailure,
  };
}

/** `plan: attempt 2 of 5 after: the LLM server sent no token for 60 s` (one bounded terminal line). */
export function retryLine(r: RetryView): string {
  const of = r.maximumAttempts ? ` of ${r.maximumAttempts}` : '';
  const reason = boundedLine(r.reason, MAX_REASON);
  return boundedLine(`${boundedLine(r.what, 60)}: attempt ${r.attempt}${of} after: ${reason}`, MAX_REASON + 80);
}

/** The streaming lines: the plan's first, then the tickets' in ticket order. */
export function llmLines(
  tickets: readonly { id: string; role: string }[],
  llm: Readonly<Record<string, LlmProgressView>> | undefined,
  now = Date.now(),
): string[] {
  if (!llm) return [];
  const plan = llm.plan ? [llmProgressLine('plan', 'boss', llm.plan, now)] : [];
  return [
    ...plan,
    ...tickets.flatMap((t) => {
      const p = t.id === 'plan' ? undefined : llm[t.id];
      return p ? [llmProgressLine(t.id, t.role, p, now)] : [];
    }),
  ];
}

/** Remembers the retry lines printed, so a piped view prints each retry once, as it happens. */
export class RetryNews {
  private readonly printed = new Set<string>();

  /** The lines of `retries` not printed before (each `what` and attempt once). */
  fresh(retries: readonly RetryView[] | undefined): string[] {
    return (retries ?? []).flatMap((r) => {
      const key = `${r.what}\u0000${r.attempt}`;
      if (this.printed.has(key)) return [];
      if (this.printed.size > 10_000) this.printed.clear();
      this.printed.add(key);
      return [retryLine(r)];
    });
  }
}

/** Prints each key's streaming line at most every `everyMs` (a piped view is a log, not a screen). */
export class ProgressNews {
  private readonly last = new Map<string, { line: string; at: number }>();

  constructor(private readonly everyMs = 2_000) {}

  /** The lines of `lines` (keyed by their first word) that changed and are due. */
  fresh(lines: readonly string[], now = Date.now()): string[] {
    return lines.filter((line) => {
      const key = line.slice(0, line.indexOf(' '));
      const was = this.last.get(key);
      if (was && (was.line === line || now - was.at < this.everyMs)) return false;
      this.last.set(key, { line, at: now });
      return true;
    });
  }
}
