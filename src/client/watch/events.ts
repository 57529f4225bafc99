/**
 * `maestro watch --json`: what changed between two snapshots as events, one JSON object per
 * line, so scripts (notifiers, dashboards, CI gates) can react without parsing screen output.
 * Pure, like the renderer.
 */
import type { ToolCallRecord } from '../../shared/tools';
import { acceptedOnMerits, acceptedOverFailureIds } from '../../shared/outcomes';
import type { AuditEntry, GateView } from '../../shared/types';
import { newReplans } from '../follow';
import { approveHints, type ApproveHints } from './approve-hints';
import type { RetryView } from './llm-progress';
import { ticketLine, type TicketLine, type WatchSnapshot } from './render';
import { toolCallKey, watchedToolCalls } from './tool-block';

/**
 * A gate started waiting for a person. `approve` is always there: the commands that settle
 * exactly this gate (by its id), so a script can print or run them without looking up flags.
 */
export interface GateOpenedEvent {
  type: 'gate';
  at: string;
  runId: string;
  event: 'opened';
  gate: GateView;
  /** How to approve this gate: `maestro approve …` and `temporal workflow signal …`. */
  approve: ApproveHints;
}

/** A gate stopped waiting (decided, timed out, or its run moved on); narrow with `e.event === 'closed'`. */
export interface GateClosedEvent {
  type: 'gate';
  at: string;
  runId: string;
  event: 'closed';
  gate: GateView;
  /** The audit entry that closed it, when the run recorded one. */
  decision?: AuditEntry;
}

/**
 * One change of a run. Every event carries `type`, `at` (ISO time seen) and `runId`; narrow on
 * `type` (and, for gates, on `event`: an opened gate has `approve`, a closed one `decision`).
 */
export type WatchEvent =
  | { type: 'phase'; at: string; runId: string; phase: string; previous?: string }
  | ({ type: 'ticket'; at: string; runId: string; previous?: string } & TicketLine)
  | GateOpenedEvent
  | GateClosedEvent
  | { type: 'cost'; at: string; runId: string; usd: number; tokens: number }
  /** The Boss plans again: `attempt` is the attempt this leads to, `reason` why (as it happens). */
  | { type: 'replan'; at: string; runId: string; attempt: number; reason: string }
  /** A tool call of an agent loop, once, whether first seen running or in a finished attempt. */
  | { type: 'tool'; at: string; runId: string; call: ToolCallRecord }
  /** An activity retried (the plan, a ticket's work or review, an agent turn), once per attempt, with the reason. */
  | ({ type: 'retry'; at: string; runId: string } & RetryView)
  | {
      type: 'end';
      at: string;
      runId: string;
      phase: string;
      /** Temporal's execution status: COMPLETED, FAILED, CANCELLED, TERMINATED, ... */
      execution: string;
      /** How the run ended: completed, partial, stopped, rejected, failed or cancelled (absent: unknown). */
      outcome?: string;
      /** Tickets accepted on their merits (not those accepted over failing checks). */
      accepted: number;
      /** Ids of the tickets accepted over failing checks (absent: none). */
      acceptedOverFailures?: string[];
      tickets: number;
      usd: number;
      tokens: number;
      error?: string;
    };

/** Events that lead from `before` (undefined: nothing seen yet) to `now`. */
export function watchEvents(
  before: WatchSnapshot | undefined,
  now: WatchSnapshot,
  at: Date,
  namespace = 'default',
  /**
   * Tool calls already announced, kept by the caller across polls so a call is announced once even
   * when a poll missed a running loop's calls; without it, the calls in `before` count as announced.
   */
  seenToolCalls?: Set<string>,
): WatchEvent[] {
  const s = now.status;
  const base = { at: at.toISOString(), runId: s.runId };
  const out: WatchEvent[] = [];
  const prev = before?.status;
  if (prev?.phase !== s.phase) {
    out.push({ type: 'phase', ...base, phase: s.phase, ...(prev ? { previous: prev.phase } : {}) });
  }

  for (const r of newReplans(prev, s)) out.push({ type: 'replan', ...base, attempt: r.attempt, reason: r.reason });

  const prevGates = new Map((prev?.pendingGates ?? []).map((g) => [g.id, g]));
  const nowGates = new Map(s.pendingGates.map((g) => [g.id, g]));
  for (const [id, g] of nowGates) {
    if (!prevGates.has(id))
      out.push({ type: 'gate', ...base, event: 'opened', gate: g, approve: approveHints(s.runId, g, namespace) });
  }
  for (const [id, g] of prevGates) {
    if (nowGates.has(id)) continue;
    const decision = [...(s.audit ?? [])].reverse().find((a) => a.gate === id);
    out.push({ type: 'gate', ...base, event: 'closed', gate: g, ...(decision ? { decision } : {}) });
  }

  const prevLines = new Map(
    (prev?.tickets ?? []).map((t) => [t.id, ticketLine(t, before?.progress[t.id], prev?.pendingGates)]),
  );
  for (const t of s.tickets) {
    const line = ticketLine(t, now.progress[t.id], s.pendingGates);
    const p = prevLines.get(t.id);
    if (p && p.state === line.state && p.attempt === line.attempt) continue;
    if (!p && line.state === 'pending' && prev?.tickets.length) continue;
    out.push({ type: 'ticket', ...base, ...line, ...(p ? { previous: p.state } : {}) });
  }

  const seenCalls =
    seenToolCalls ??
    new Set(before ? watchedToolCalls(before.status.toolCalls, before.liveToolCalls).map(toolCallKey) : []);
  for (const call of watchedToolCalls(s.toolCalls, now.liveToolCalls)) {
    const key = toolCallKey(call);
    if (seenCalls.has(key)) continue;
    seenCalls.add(key);
    out.push({ type: 'tool', ...base, call });
  }

  const retried = new Set((before?.retries ?? []).map((r) => `${r.what}\u0000${r.attempt}`));
  for (const r of now.retries ?? [])
    if (!retried.has(`${r.what}\u0000${r.attempt}`)) out.push({ type: 'retry', ...base, ...r });

  if (!prev || prev.cost.usd !== s.cost.usd || prev.cost.tokens !== s.cost.tokens) {
    if (s.cost.tokens > 0 || prev) out.push({ type: 'cost', ...base, usd: s.cost.usd, tokens: s.cost.tokens });
  }
  if (now.execution !== 'RUNNING') {
    const overFailures = acceptedOverFailureIds(s.tickets);
    out.push({
      type: 'end',
      ...base,
      phase: s.phase,
      execution: now.execution,
      ...(s.outcome ? { outcome: s.outcome } : {}),
      accepted: s.tickets.filter(acceptedOnMerits).length,
      ...(overFailures.length > 0 ? { acceptedOverFailures: overFailures } : {}),
      tickets: s.tickets.length,
      usd: s.cost.usd,
      tokens: s.cost.tokens,
      ...(s.error ? { error: s.error } : {}),
    });
  }
  return out;
}
