/**
 * The screen of `maestro watch`: a pure function from a run's snapshot to terminal lines, so
 * every detail a person relies on (progress, per-ticket state, the command that approves a
 * waiting gate) is unit-tested without a terminal. Colours come from chalk and can be off.
 */
import chalk from 'chalk';
import type { TicketProgress } from '../../shared/messages';
import type { GateView, RunStatus, TicketView } from '../../shared/types';
import { addUsage, totalTokens, type Usage } from '../../shared/usage';
import { usd } from '../format';
import { ACCEPTED_OVER_FAILURES, acceptedText, runStatusOf, ticketStateLabel } from '../../shared/outcomes';
import type { ToolCallRecord } from '../../shared/tools';
import { approveHints } from './approve-hints';
import { wrapCommand } from './wrap-command';
import { toolBlockLines, watchedToolCalls } from './tool-block';
import { epicsLine, waitingGates, withEpicCounts } from './epic-rows';
import { executorLines, type ExecutorProgressView } from './executor-progress';
import { llmLines, retryLine, type LlmProgressView, type RetryView } from './llm-progress';

/** What the watcher knows about a run at one moment. */
export interface WatchSnapshot {
  status: RunStatus;
  /** Live progress of running tickets (their child workflow's own status query), by ticket id. */
  progress: Readonly<Record<string, TicketProgress>>;
  /** Temporal's execution status of the run: RUNNING, COMPLETED, FAILED, ... */
  execution: string;
  startedAt?: Date;
  closedAt?: Date;
  /** Something the person should know, e.g. that no worker has picked the run up yet. */
  note?: string;
  /** Tool calls of the running agent loops so far (their own status query), by ticket id. */
  liveToolCalls?: Readonly<Record<string, readonly ToolCallRecord[]>>;
  /** Heartbeated progress of the coding-agent CLIs working tickets, by ticket id. */
  executors?: Readonly<Record<string, ExecutorProgressView>>;
  /** Heartbeated progress of streaming LLM calls, by ticket id (`plan` for the Boss's plan). */
  llm?: Readonly<Record<string, LlmProgressView>>;
  /** Activities being retried right now, with the reason of their last failure. */
  retries?: readonly RetryView[];
}

/** How to draw. */
export interface RenderOptions {
  now: Date;
  /** Terminal columns (default 100); every line but the approve commands is cut to fit. */
  width?: number;
  /** Terminal rows; when the tickets do not fit, the interesting ones are shown and the rest counted. */
  height?: number;
  color?: boolean;
  namespace?: string;
  uiUrl?: string;
}

/** Ticket states after which nothing more happens to the ticket. */
export const FINISHED_TICKET_STATES: ReadonlySet<string> = new Set([
  'accepted',
  ACCEPTED_OVER_FAILURES,
  'escalated',
  'failed',
  'blocked',
  'skipped',
]);

type Style = (s: string) => string;
type Seg = [text: string, style?: Style];

/** A ticket row in display terms (also used by the JSON events). */
export interface TicketLine {
  id: string;
  role: string;
  /** `working` / `reviewing` while running, else the ticket state; `needs you` at a ticket gate. */
  state: string;
  attempt: number;
  tokens: number;
  usd: number;
  title: string;
  error?: string;
}

/** Merges a ticket with its live progress and gates into what a person sees. */
export function ticketLine(t: TicketView, progress?: TicketProgress, gates: readonly GateView[] = []): TicketLine {
  let state: string = ticketStateLabel(t);
  let attempt = t.attempts;
  let usage: Usage = t.usage;
  if (t.state === 'running' && progress) {
    state = progress.stage === 'reviewing' ? 'reviewing' : 'working';
    attempt = Math.max(attempt, progress.attempt);
    const live = addUsage(progress.workUsage, progress.reviewUsage);
    if (live.calls >= usage.calls) usage = live;
  }
  if (gates.some((g) => g.kind === 'ticket' && g.ticketId === t.id)) state = 'needs you';
  return {
    id: t.id,
    role: t.role,
    state,
    attempt,
    tokens: totalTokens(usage),
    usd: usage.usd,
    title: t.title,
    ...(t.error ? { error: t.error } : {}),
  };
}

/** Renders the whole screen. */
export function renderWatch(snap: WatchSnapshot, opts: RenderOptions): string[] {
  const width = Math.max(40, opts.width ?? 100);
  const c = new chalk.Instance({ level: opts.color ? 1 : 0 });
  const s = snap.status;
  const live = snap.execution === 'RUNNING';
  const gates = live ? s.pendingGates : [];
  const waiting = live ? waitingGates(s) : [];
  const rows = withEpicCounts(
    s.tickets.map((t) => ticketLine(t, snap.progress[t.id], gates)),
    s,
  );
  const fit = (...segs: Seg[]) => fitLine(segs, width);

  const head: string[] = [];
  const elapsed = snap.startedAt ? duration((snap.closedAt ?? opts.now).getTime() - snap.startedAt.getTime()) : '';
  const phase = waiting.length > 0 ? `${s.phase} · waiting for approval` : s.phase;
  head.push(
    fit(
      [`Maestro `, c.bold],
      [s.runId, c.cyan],
      [' · '],
      [phase, waiting.length > 0 ? c.bold.yellow : phaseStyle(c, s.phase)],
      ...(elapsed ? ([[` · ${elapsed}`, c.dim]] as Seg[]) : []),
    ),
  );
  head.push(fit(['Goal: ', c.dim], [s.goal.replace(/\s+/g, ' ')]));
  head.push(progressLine(rows, s, width, c));
  const epics = epicsLine(s);
  if (epics) head.push(fit([epics]));
  if (s.planSummary) head.push(fit(['Plan: ', c.dim], [s.planSummary.replace(/\s+/g, ' '), c.dim]));
  if (snap.note) head.push(fit([snap.note, c.yellow]));

  const gateLines: string[] = [];
  for (const { gate: g, epic } of waiting) {
    const hints = approveHints(s.runId, g, opts.namespace, epic);
    gateLines.push('');
    gateLines.push(
      fit(
        [' WAITING FOR YOU ', c.bold.black.bgYellow],
        [` ${g.kind} gate${epic ? ` of epic ${epic}` : ''}`, c.bold.yellow],
        [g.ticketId ? ` (${g.ticketId})` : ''],
        [` since ${g.openedAt.slice(11, 19)}`, c.dim],
        [` — ${g.reason.replace(/\s+/g, ' ')}`],
      ),
    );
    // Never cut a command a person will copy: wrapped between words at the screen's width instead.
    gateLines.push(...styledCommand('  approve: ', hints.maestro, width, c.dim, c.bold));
    gateLines.push(...styledCommand('       or: ', hints.temporal, width, c.dim));
  }

  const tools = toolBlockLines(watchedToolCalls(s.toolCalls, snap.liveToolCalls));
  const toolLines = tools.length > 0 ? ['', ...tools.map((l, i) => fit([l, i === 0 ? undefined : c.dim]))] : [];

  const clis = live ? executorLines(s.tickets, snap.executors) : [];
  const models = live ? llmLines(s.tickets, snap.llm, opts.now.getTime()) : [];
  const retries = live ? (snap.retries ?? []).map(retryLine) : [];
  if (clis.length + models.length + retries.length > 0)
    toolLines.unshift(
      '',
      ...clis.map((l) => fit([l, c.cyan])),
      ...models.map((l) => fit([l, c.cyan])),
      ...retries.map((l) => fit([l, c.yellow])),
    );

  const foot: string[] = [''];
  if (live) {
    if (opts.uiUrl) foot.push(fit(['Web UI: ', c.dim], [opts.uiUrl, c.underline]));
    foot.push(fit(['Ctrl-C stops watching; the run goes on.', c.dim]));
  } else {
    foot.push(fit(...finalSegs(snap, rows, c)));
  }

  const table: string[] = [];
  if (rows.length > 0) {
    // Rows for tickets: the screen minus everything else (gate commands wrap, never cut), the
    // blank line, the table header, and the line the cursor rests on after the last one (else
    // the terminal scrolls the header away).
    const used = [...head, ...toolLines, ...gateLines, ...foot].reduce((n, l) => n + screenRows(l, width), 0);
    const room = opts.height ? Math.max(2, opts.height - used - 3) : Number.POSITIVE_INFINITY;
    table.push('', ...ticketTable(rows, room, width, c));
  }
  return [...head, ...table, ...toolLines, ...gateLines, ...foot];
}

function progressLine(rows: TicketLine[], s: RunStatus, width: number, c: chalk.Chalk): string {
  if (rows.length === 0) {
    const what = s.phase === 'planning' ? `the Boss is planning (attempt ${Math.max(1, s.planAttempts)})` : s.phase;
    return fitLine(
      [
        [`[${' '.repeat(24)}] `, c.dim],
        [what, c.dim],
      ],
      width,
    );
  }
  const done = rows.filter((r) => FINISHED_TICKET_STATES.has(r.state)).length;
  const running = rows.filter((r) => r.state === 'working' || r.state === 'reviewing' || r.state === 'running').length;
  const pending = rows.length - done - running;
  const barWidth = Math.min(40, Math.max(10, width - 75));
  const filled = Math.round((done / rows.length) * barWidth);
  return fitLine(
    [
      ['['],
      ['█'.repeat(filled), c.green],
      ['░'.repeat(barWidth - filled), c.dim],
      ['] '],
      [`${done}/${rows.length} done`, c.bold],
      [` · ${running} running · ${pending} pending`],
      [`   ${usd(s.cost.usd)} · ${s.cost.tokens.toLocaleString('en-US')} tokens`, c.dim],
    ],
    width,
  );
}

function ticketTable(rows: TicketLine[], room: number, width: number, c: chalk.Chalk): string[] {
  const idW = Math.max(2, ...rows.map((r) => r.id.length));
  const roleW = Math.max(4, ...rows.map((r) => r.role.length));
  const cols = (id: string, role: string, state: string, attempt: string, tokens: string, cost: string) =>
    `  ${id.padEnd(idW)}  ${role.padEnd(roleW)}  ${state.padEnd(11)}  ${attempt.padStart(3)}  ${tokens.padStart(8)}  ${cost.padStart(8)}  `;
  const out = [fitLine([[cols('ID', 'ROLE', 'STATE', 'TRY', 'TOKENS', 'COST') + 'TITLE', c.dim]], width)];
  const visible = pickVisible(rows, room);
  for (const r of rows) {
    if (!visible.has(r.id)) continue;
    const [symbol, style] = stateLook(r.state, c);
    const prefix = cols(
      r.id,
      r.role,
      `${symbol} ${r.state}`,
      r.attempt > 0 ? String(r.attempt) : '-',
      r.tokens > 0 ? r.tokens.toLocaleString('en-US') : '-',
      r.usd > 0 ? usd(r.usd) : '-',
    );
    const title = r.error && r.state !== 'accepted' ? `${r.title} (${r.error})` : r.title;
    out.push(fitLine([[prefix, style], [title]], width));
  }
  const hidden = rows.filter((r) => !visible.has(r.id));
  if (hidden.length > 0) {
    const counts = new Map<string, number>();
    for (const r of hidden) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    const parts = [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
    out.push(fitLine([[`  … ${hidden.length} more: ${parts}`, c.dim]], width));
  }
  return out;
}

/** Ids to show when only `room` rows fit (one goes to the "… more" line): tickets needing attention or active first. */
function pickVisible(rows: TicketLine[], room: number): Set<string> {
  if (rows.length <= room) return new Set(rows.map((r) => r.id));
  const rank = (r: TicketLine) =>
    r.state === 'needs you'
      ? 0
      : r.state === 'working' || r.state === 'reviewing' || r.state === 'running'
        ? 1
        : r.state === 'escalated' || r.state === 'failed'
          ? 2
          : r.state === 'pending'
            ? 3
            : 4;
  const ordered = rows.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i);
  return new Set(ordered.slice(0, Math.max(1, room - 1)).map((x) => x.r.id));
}

function stateLook(state: string, c: chalk.Chalk): [string, Style] {
  switch (state) {
    case 'accepted':
      return ['✓', c.green];
    case ACCEPTED_OVER_FAILURES:
      return ['!', c.yellow];
    case 'working':
    case 'reviewing':
    case 'running':
      return ['●', c.cyan];
    case 'needs you':
      return ['!', c.bold.yellow];
    case 'escalated':
      return ['!', c.yellow];
    case 'failed':
      return ['✗', c.red];
    case 'pending':
      return ['○', c.dim];
    default:
      return ['-', c.dim];
  }
}

function phaseStyle(c: chalk.Chalk, phase: string): Style {
  if (phase === 'completed') return c.bold.green;
  if (phase === 'failed' || phase === 'cancelled') return c.bold.red;
  return c.bold;
}

function finalSegs(snap: WatchSnapshot, rows: TicketLine[], c: chalk.Chalk): Seg[] {
  const s = snap.status;
  const took =
    snap.startedAt && snap.closedAt ? ` in ${duration(snap.closedAt.getTime() - snap.startedAt.getTime())}` : '';
  if (s.phase === 'failed' || s.phase === 'cancelled' || snap.execution !== 'COMPLETED') {
    return [[`Run ${s.phase}${took}`, c.bold.red], [s.error ? `: ${s.error}` : '']];
  }
  const ok = runStatusOf(s.tickets) === 'completed';
  // The outcome (`partial` when a ticket was accepted over failing checks), not just the phase.
  return [
    [`Run ${s.outcome ?? s.phase}${took}`, ok ? c.bold.green : c.bold.yellow],
    [` — ${acceptedText(s.tickets)}, ${usd(s.cost.usd)}, ${s.cost.tokens.toLocaleString('en-US')} tokens`],
  ];
}

/** A command wrapped between words at `width` (wrap-command.ts), its label styled apart. */
function styledCommand(
  label: string,
  command: string,
  width: number,
  labelStyle: chalk.Chalk,
  style?: chalk.Chalk,
): string[] {
  return wrapCommand(label, command, width).map((line, i) => {
    const head = i === 0 ? labelStyle(label) : ' '.repeat(label.length);
    const rest = line.slice(label.length);
    return head + (style ? style(rest) : rest);
  });
}

/** How many terminal rows `line` takes at `width` columns (a long line wraps). */
function screenRows(line: string, width: number): number {
  const visible = line.replace(/\u001b\[[0-9;]*m/g, '').length;
  return Math.max(1, Math.ceil(visible / width));
}

/** Joins styled segments and cuts the text to `width` columns (styles never count as width). */
export function fitLine(segs: Seg[], width: number): string {
  let left = width;
  let out = '';
  for (const [text, style] of segs) {
    if (left <= 0) break;
    const cut = text.length > left ? `${text.slice(0, Math.max(0, left - 1))}…` : text;
    left -= cut.length;
    out += style && cut ? style(cut) : cut;
  }
  return out.replace(/\s+$/, '');
}

/** `42s`, `3m 04s`, `1h 02m`. */
export function duration(ms: number): string {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec}s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min}m ${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(min / 60)}h ${String(min % 60).padStart(2, '0')}m`;
}
