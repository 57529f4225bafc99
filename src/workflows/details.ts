/**
 * The run's "current details" markdown for the Web UI. A small plan gets one row per ticket; a
 * large one (more than DETAILS_ROWS tickets) gets counts per state and the running tickets, so
 * the text stays readable and building it costs the same at 1,000 tickets as at 30 (it is
 * rebuilt on every change of the run).
 */
import { markdownInline } from '../shared/model-text';
import { recentToolCallsMarkdown, toolCallCounts, toolCountText } from '../shared/tool-call-views';
import type { ToolCallRecord } from '../shared/tools';
import type { GateView, TicketState, TicketView } from '../shared/types';
import { totalTokens, type Usage } from '../shared/usage';
import { ticketStateLabel } from '../shared/outcomes';

/** Plans up to this many tickets get one row per ticket. */
export const DETAILS_ROWS = 30;

/** Running tickets listed by name in the compact form; the rest are counted. */
const RUNNING_LISTED = 20;

/** Ticket states in the order their counts are shown. */
const STATE_ORDER: readonly TicketState[] = [
  'pending',
  'running',
  'accepted',
  'escalated',
  'failed',
  'blocked',
  'skipped',
];

/** What the details are made of. */
export interface DetailsInput {
  gates: readonly GateView[];
  phase: string;
  usage: Usage;
  budgetUsd?: number;
  tickets: ReadonlyMap<string, TicketView>;
  /** Tickets per state (kept by the run state as tickets move). */
  counts: ReadonlyMap<TicketState, number>;
  /** Ids of the running tickets, in the order they started. */
  running: ReadonlySet<string>;
  /** The run's tool calls (counted per ticket; the latest are listed). */
  toolCalls: readonly ToolCallRecord[];
  /** The run's epics: their sub-runs' pending gates and each epic's progress (absent: none). */
  epics?: EpicDetails;
}

/** What the details table shows of a run's epics: their sub-runs' gates and progress. */
export interface EpicDetails {
  gateLines: string[];
  note: (ticketId: string) => string | undefined;
}

/**
 * Markdown: pending gates first, then the tickets (rows, or counts and running tickets). Every
 * text that may come from a model (gate reasons, titles, epic notes) goes through markdownInline.
 */
export function runDetails(d: DetailsInput): string {
  const gates = [
    ...d.gates.map(
      (g) => `> **Waiting for a person:** ${g.id} — ${markdownInline(g.reason)} (signal \`approve\` or \`reject\`)`,
    ),
    ...(d.epics?.gateLines ?? []),
  ];
  const budget = d.budgetUsd !== undefined ? ` of $${d.budgetUsd.toFixed(2)}` : '';
  const head = [
    ...gates,
    ...(gates.length > 0 ? [''] : []),
    `**Phase:** ${d.phase} · **Cost:** $${d.usage.usd.toFixed(4)}${budget} · **Tokens:** ${totalTokens(d.usage)}`,
    '',
  ];
  const tools = toolCallCounts(d.toolCalls);
  const row = (t: TicketView) =>
    `| ${t.id} | ${t.role} | ${ticketStateLabel(t)}${t.reopened ? ` (re-opened ${t.reopened}x)` : ''} | ${t.attempts} | ${toolCountText(tools.get(t.id))} | $${t.usage.usd.toFixed(4)} | ${epicTitle(t, d.epics)} |`;
  const header = ['| Ticket | Role | State | Attempts | Tool calls | Cost | Title |', '|---|---|---|---|---|---|---|'];
  const recent = recentToolCallsMarkdown(d.toolCalls);
  if (d.tickets.size <= DETAILS_ROWS)
    return [...head, ...header, ...[...d.tickets.values()].map(row), ...recent].join('\n');
  const counts = STATE_ORDER.filter((s) => (d.counts.get(s) ?? 0) > 0).map((s) => `${s} ${d.counts.get(s)}`);
  const listed = [...d.running].slice(0, RUNNING_LISTED).map((id) => d.tickets.get(id)!);
  const more = d.running.size - listed.length;
  return [
    ...head,
    `**Tickets:** ${d.tickets.size} — ${counts.join(' · ')}`,
    ...(listed.length > 0 ? ['', `**Running** (${d.running.size}):`, '', ...header, ...listed.map(row)] : []),
    ...(more > 0 ? ['', `… and ${more} more running (\`maestro status\` lists every ticket)`] : []),
    ...recent,
  ].join('\n');
}

/** A ticket's title (escaped), with its epic's progress when it is an epic that reported some. */
function epicTitle(t: TicketView, epics?: EpicDetails): string {
  const note = epics?.note(t.id);
  return note ? `${markdownInline(t.title)} [${markdownInline(note)}]` : markdownInline(t.title);
}
