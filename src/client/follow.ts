/**
 * Follows a run from the terminal by polling its status query and printing what changed, one
 * line per change, until the run closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaestroClient } from './api';
import { printableDeep } from '../shared/control-chars';
import { ticketStateLabel } from '../shared/outcomes';
import { statusQuery } from '../shared/messages';
import type { GateView, ReplanView, RunStatus } from '../shared/types';
import { MAX_REPLAN_REASON_CHARS, MAX_REPLANS_SHOWN } from '../workflows/replans';
import { usd } from './format';
import { approveHints } from './watch/approve-hints';
import { wrapCommand } from './watch/wrap-command';
import { waitingGates, type WaitingGate } from './watch/epic-rows';
import { MAX_DESCRIBES } from './watch/executor-progress';
import { fetchLiveActivities } from './watch/live-activities';
import { RetryNews } from './watch/llm-progress';
import { pendingActivitiesOf } from './watch/pending-activities';

/** Retries are looked for every this many polls (each look describes the running tickets). */
const RETRY_LOOK_EVERY = 4;

/** Prints changes of a run's status until it is no longer running. */
export async function followRun(
  api: MaestroClient,
  runId: string,
  log: (line: string) => void,
  pollMs = 250,
  onGate?: (gate: GateView) => Promise<void>,
): Promise<void> {
  let last: RunStatus | undefined;
  const seenGates = new Set<string>();
  const retryNews = new RetryNews();
  for (let poll = 0; ; poll++) {
    const desc = await api.client.workflow.getHandle(runId).describe();
    if (desc.status.name !== 'RUNNING') {
      // The last changes (final tickets, phase) may have happened since the previous poll.
      const final = await api.status(runId).then(printableDeep, () => undefined);
      if (final) for (const line of changes(last, final)) log(line);
      return;
    }
    let now: RunStatus;
    try {
      now = printableDeep(await api.client.workflow.getHandle(runId).query(statusQuery));
    } catch {
      await sleep(pollMs);
      continue; // no worker has picked the run up yet
    }
    for (const line of changes(last, now)) log(line);
    last = now;
    if (poll % RETRY_LOOK_EVERY === 0)
      for (const line of await retryLines(api, desc.raw, now, retryNews, poll / RETRY_LOOK_EVERY)) log(line);
    for (const gate of now.pendingGates) {
      if (seenGates.has(gate.id) || !onGate) continue;
      seenGates.add(gate.id);
      await onGate(gate);
    }
    await sleep(pollMs);
  }
}

/**
 * Activities being retried (the plan, a ticket's work or review, an agent turn), each retry once as
 * it is seen, with the reason of the failure before it (`plan: attempt 2 of 5 after: ...`). A
 * describe that fails or is late only delays the news.
 */
async function retryLines(
  api: MaestroClient,
  raw: Parameters<typeof pendingActivitiesOf>[1],
  status: RunStatus,
  news: RetryNews,
  round: number,
): Promise<string[]> {
  try {
    const deadline = () => Date.now() + 3_000;
    const running = status.tickets.filter((t) => t.state === 'running');
    const live = await fetchLiveActivities(
      api.client,
      await pendingActivitiesOf(api.client, raw),
      running,
      deadline,
      MAX_DESCRIBES,
      round * MAX_DESCRIBES,
    );
    return news.fresh(live.retries).map((l) => `  ${l}`);
  } catch {
    return [];
  }
}

/**
 * Lines describing what changed between two statuses. With `gates`, also gates opening (with the
 * commands that approve them, for `namespace`) and closing; `maestro run` leaves them to its own
 * gate prompt, `maestro watch` shows them.
 */
export function changes(
  before: RunStatus | undefined,
  now: RunStatus,
  opts: { gates?: boolean; namespace?: string; width?: number } = {},
): string[] {
  const out: string[] = [];
  if (now.tickets.length > 0 && !before?.tickets.length) {
    out.push(
      `Plan ready after ${now.planAttempts} attempt(s): ${now.tickets.length} tickets — ${now.planSummary ?? ''}`,
    );
  } else if (
    now.replans === undefined &&
    now.phase === 'planning' &&
    before &&
    now.planAttempts > 1 &&
    before.planAttempts !== now.planAttempts
  ) {
    // Runs of older code carry no reasons: guess from the audit, as before.
    out.push(`Re-planning (attempt ${now.planAttempts}): ${replanReason(now)}`);
  }
  // Each re-plan once, with its reason, as soon as the run records it (not when the run fails).
  for (const r of newReplans(before, now)) out.push(`Re-planning (attempt ${r.attempt}): ${r.reason}`);
  if (before?.phase !== now.phase && now.phase !== 'executing') out.push(`Phase: ${now.phase}`);
  out.push(...reopenLines(before, now));
  const prev = new Map(before?.tickets.map((t) => [t.id, t]) ?? []);
  for (const t of now.tickets) {
    const p = prev.get(t.id);
    // The same state after more attempts is news too: a retried ticket may escalate again
    // between two polls without ever being seen running.
    const ended = t.state === 'accepted' || t.state === 'escalated';
    if (p?.state === t.state && (!ended || p.attempts === t.attempts)) continue;
    // `in all`: every attempt of the ticket, across its rounds, as its gate counts them too.
    const extra =
      t.state === 'accepted' || t.state === 'escalated'
        ? ` after ${t.attempts} attempt(s) in all, ${usd(t.usage.usd)}`
        : t.error && t.state !== 'pending'
          ? ` — ${t.error}`
          : '';
    if (t.state !== 'pending' || p) out.push(`  ${t.id} [${t.role}] ${t.title}: ${ticketStateLabel(t)}${extra}`);
  }
  if (opts.gates) out.push(...gateChanges(before, now, opts.namespace, opts.width));
  return out;
}

/** Re-opens since `before` (audit entries `reopen`): `T3 re-opened (1 of 2): T4's check failed: …`. */
function reopenLines(before: RunStatus | undefined, now: RunStatus): string[] {
  const seen = (before?.audit ?? []).filter((a) => a.action === 'reopen').length;
  return now.audit
    .filter((a) => a.action === 'reopen')
    .slice(seen)
    .map((a) => `  ${a.ticketId ?? '?'} ${a.comment ?? 're-opened'}`);
}

/**
 * Re-plans recorded since `before`. The status keeps the newest 50, so they are told apart by
 * attempt number rather than by position.
 */
export function newReplans(before: RunStatus | undefined, now: RunStatus): ReplanView[] {
  const seen = replansOf(before).reduce((max, r) => Math.max(max, r.attempt), 0);
  return replansOf(now)
    .filter((r) => r.attempt > seen)
    .slice(-MAX_REPLANS_SHOWN)
    .map((r) => ({ attempt: r.attempt, reason: cut(r.reason) }));
}

/**
 * The well-formed re-plans of a status. The status comes from whatever workflow answers the query
 * on the run's task queue, so a forged one may send any shape or size: wrong entries are skipped
 * rather than crashing `maestro run` and `watch`, and a reason longer than the workflow ever
 * records is cut (one poll prints at most MAX_REPLANS_SHOWN lines of bounded length).
 */
function replansOf(s: RunStatus | undefined): ReplanView[] {
  const list: unknown = s?.replans;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r: unknown): r is ReplanView =>
      typeof r === 'object' &&
      r !== null &&
      Number.isFinite((r as ReplanView).attempt) &&
      typeof (r as ReplanView).reason === 'string',
  );
}

function cut(reason: string): string {
  return reason.length > MAX_REPLAN_REASON_CHARS ? `${reason.slice(0, MAX_REPLAN_REASON_CHARS - 1)}…` : reason;
}

/** Older runs: a person rejected the plan (who, with what comment), else it was invalid. */
function replanReason(now: RunStatus): string {
  const last = [...now.audit].reverse().find((a) => a.gate?.startsWith('plan') && a.action !== 'gate-opened');
  if (last?.action === 'reject' || last?.action === 'timeout-reject')
    return `the plan was rejected by ${last.by}${last.comment ? ` — "${last.comment}"` : ''}`;
  return 'the previous plan was invalid';
}

/**
 * A gate that opened, with the commands that approve it; a gate that closed, with its decision.
 * Gates of epics' sub-runs count too (named with their epic, decided through `--epic`).
 */
function gateChanges(before: RunStatus | undefined, now: RunStatus, namespace?: string, width?: number): string[] {
  const out: string[] = [];
  const key = (w: WaitingGate) => `${w.epic ?? ''}/${w.gate.id}`;
  const was = new Map((before ? waitingGates(before) : []).map((w) => [key(w), w]));
  const waiting = waitingGates(now);
  const is = new Set(waiting.map(key));
  for (const w of waiting) {
    if (was.has(key(w))) continue;
    const g = w.gate;
    const hints = approveHints(now.runId, g, namespace, w.epic);
    out.push(
      `Waiting for approval: ${g.kind} gate${w.epic ? ` of epic ${w.epic}` : ''}${g.ticketId ? ` (${g.ticketId})` : ''} — ${g.reason}`,
    );
    // Wrapped between words (never mid-flag) when the caller knows the width.
    const wrap = (label: string, command: string) =>
      width === undefined ? [label + command] : wrapCommand(label, command, width);
    out.push(...wrap('  approve: ', hints.maestro), ...wrap('       or: ', hints.temporal));
  }
  for (const [k, w] of was) {
    if (is.has(k)) continue;
    const g = w.gate;
    // The decisions of a sub-run's gates are in the sub-run's audit, not in this status.
    const entry = w.epic ? undefined : [...(now.audit ?? [])].reverse().find((a) => a.gate === g.id);
    const how = entry ? `: ${entry.action} by ${entry.by}${entry.comment ? ` (${entry.comment})` : ''}` : '';
    out.push(`Gate ${g.kind}${w.epic ? ` of epic ${w.epic}` : ''}${g.ticketId ? ` (${g.ticketId})` : ''} closed${how}`);
  }
  return out;
}
