/**
 * The live progress of coding-agent CLIs in `maestro watch`: what `runExecutor` heartbeats (agent,
 * turns, tool calls, last tool, tokens), read from the pending activities of each executing
 * ticket's child workflow (one describe per ticket, at most `MAX_DESCRIBES` per poll), decoded with
 * the client's data converter (so payload codecs, encryption included, still apply). Heartbeat
 * details are written by a worker from a model-driven stream: every field is checked, clipped and
 * made one terminal line before it is shown; a detail of the wrong shape is simply not shown.
 */
import type { Client } from '@temporalio/client';
import { terminalLine } from '../../shared/model-text';
import { describePending } from './pending-activities';

/** One CLI's progress as the watcher shows it (already checked; strings not yet sanitised). */
export interface ExecutorProgressView {
  agent: string;
  turns: number;
  toolCalls: number;
  lastTool?: string;
  tokens: number;
  /** Activity attempt (a retry after a failure or a dead worker counts up). */
  activityAttempt?: number;
}

/** Describes made per poll at most (the rest of the executing tickets wait for later polls). */
export const MAX_DESCRIBES = 8;
/** Longest agent / tool name shown. */
const MAX_NAME = 40;
/** Longest progress line, whatever the details held. */
const MAX_LINE = 160;
/** Largest count shown as it is (a forged 1e300 is not a count). */
const MAX_COUNT = 1e12;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A worker-written count if it is one (finite, 0 to 1e12), whole; else undefined. */
export const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COUNT ? Math.floor(v) : undefined;
const name = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const s = terminalLine(v.slice(0, MAX_NAME * 4)).trim();
  if (!s) return undefined;
  return s.length > MAX_NAME ? `${s.slice(0, MAX_NAME - 1)}…` : s;
};

/**
 * The executor progress in heartbeat details (`{ executor: {agent, turns, toolCalls, lastTool?,
 * tokens}, calls }`), or undefined when they are not of that shape; single wrong fields are
 * dropped or read as 0, so a partly odd detail still shows what is sound.
 */
export function parseExecutorProgress(details: unknown): ExecutorProgressView | undefined {
  if (!isObj(details) || !isObj(details.executor)) return undefined;
  const e = details.executor;
  const agent = name(e.agent);
  if (!agent) return undefined;
  const lastTool = name(e.lastTool);
  return {
    agent,
    turns: count(e.turns) ?? 0,
    toolCalls: count(e.toolCalls) ?? 0,
    ...(lastTool ? { lastTool } : {}),
    tokens: count(e.tokens) ?? 0,
  };
}

/** `950`, `12.3k`, `4.1M`. */
export function shortCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** `T2 [coder] codex: turn 3, 5 tool calls, last: apply_patch, 12.3k tokens` (one bounded terminal line). */
export function executorProgressLine(ticketId: string, role: string, p: ExecutorProgressView): string {
  const parts = [
    p.turns > 0 ? `turn ${p.turns}` : 'starting',
    plural(p.toolCalls, 'tool call', 'tool calls'),
    ...(p.lastTool ? [`last: ${p.lastTool}`] : []),
    `${shortCount(p.tokens)} tokens`,
    ...(p.activityAttempt !== undefined && p.activityAttempt > 1 ? [`start ${p.activityAttempt}`] : []),
  ];
  return boundedLine(`${ticketId} [${role}] ${name(p.agent) ?? 'cli'}: ${parts.join(', ')}`);
}

/** `text` as one terminal line (control bytes escaped) of at most `max` characters. */
export function boundedLine(text: string, max = MAX_LINE): string {
  const line = terminalLine(text.length > max * 4 ? text.slice(0, max * 4) : text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The progress lines of the CLIs of `tickets` that have one in `executors`, in ticket order. */
export function executorLines(
  tickets: readonly { id: string; role: string }[],
  executors: Readonly<Record<string, ExecutorProgressView>> | undefined,
): string[] {
  if (!executors) return [];
  return tickets.flatMap((t) => {
    const p = executors[t.id];
    return p ? [executorProgressLine(t.id, t.role, p)] : [];
  });
}

/** A ticket whose CLI is working: its id and child workflow. */
export interface ExecutingTicket {
  id: string;
  childId: string;
}

/**
 * The heartbeated progress of the `runExecutor` activity pending in each ticket's child workflow
 * (`max` tickets from `start`, round the list; a describe that fails or is late, a ticket with no such activity or
 * with details of the wrong shape is left out).
 */
export async function fetchExecutorProgress(
  client: Client,
  tickets: readonly ExecutingTicket[],
  deadline: () => number,
  max = MAX_DESCRIBES,
  /** Index of the first ticket to describe (the watcher moves it on each poll, round the list). */
  start = 0,
): Promise<Record<string, ExecutorProgressView>> {
  const pending = await describePending(
    client,
    tickets.map((t) => ({ key: t.id, workflowId: t.childId })),
    deadline,
    max,
    start,
  );
  const views = Object.entries(pending).flatMap(([id, work]) => {
    const a = work.activities.find((p) => p.type === 'runExecutor');
    const view = a ? parseExecutorProgress(a.details) : undefined;
    return view ? [[id, { ...view, activityAttempt: a!.attempt }] as const] : [];
  });
  return Object.fromEntries(views);
}
