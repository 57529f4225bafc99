/** Plain-text rendering of runs for the terminal (no colours needed to read it). */
import { codingAgentLines } from './coding-agents-text';
import { acceptedText, ticketStateLabel } from '../shared/outcomes';
import { printableDeep } from '../shared/control-chars';
import { terminalBlock } from '../shared/model-text';
import type { RunResult, RunStatus, TicketView } from '../shared/types';
import { countsText, treeCostUsd, treeCounts } from './sub-runs';
import { toolCallLines } from './tool-calls-text';
import { approveHints } from './watch/approve-hints';

/** `$0.0123` with enough digits for cheap simulated calls. */
export function usd(n: number): string {
  return `$${n.toFixed(n < 1 ? 4 : 2)}`;
}

/** Web UI link of a run. */
export function runUrl(uiBase: string, namespace: string, runId: string): string {
  return `${uiBase.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(runId)}`;
}

/** One aligned line per ticket. */
export function ticketLines(tickets: readonly TicketView[]): string[] {
  const roleWidth = Math.max(4, ...tickets.map((t) => t.role.length));
  const idWidth = Math.max(2, ...tickets.map((t) => t.id.length));
  return tickets.map(
    (t) =>
      `  ${t.id.padEnd(idWidth)}  ${t.role.padEnd(roleWidth)}  ${ticketStateLabel(t).padEnd(9)}  ${String(t.attempts || '-').padStart(2)}x  ${usd(t.usage.usd).padStart(8)}  ${t.title}${t.reopened ? `  (re-opened ${t.reopened}x after a failing check)` : ''}${t.error ? `  (${t.error})` : ''}${t.overruled ? `  (${t.overruled})` : ''}`,
  );
}

/** The tickets, epics titled with their sub-run's counts per state (one line per epic, not 100). */
function withSubRunCounts(s: RunStatus): TicketView[] {
  const byEpic = new Map((s.subRuns ?? []).map((v) => [v.ticketId, v]));
  return s.tickets.map((t) => {
    const v = byEpic.get(t.id);
    return v ? { ...t, title: `${t.title}  [${v.tickets} tickets: ${countsText(v.counts) || v.phase}]` } : t;
  });
}

/** Human-readable status of a run. */
export function statusText(s: RunStatus): string {
  const lines = [`Run ${s.runId}: ${s.phase}`, `Goal: ${s.goal}`];
  if (s.planSummary) lines.push(`Plan: ${s.planSummary}`);
  const waiting = [
    ...s.pendingGates.map((g) => ({ g, epic: undefined })),
    ...(s.subRuns ?? []).flatMap((v) => v.pendingGates.map((g) => ({ g, epic: v.ticketId }))),
  ];
  for (const { g, epic } of waiting) {
    lines.push(`Waiting for a person${epic ? ` in epic ${epic}` : ''}: ${g.id} — ${g.reason}`);
    const approve = approveHints(s.runId, g, 'default', epic).maestro;
    lines.push(`  decide: ${approve}  |  ${approve.replace('maestro approve', 'maestro reject')} --comment "why"`);
  }
  if (s.tickets.length > 0) lines.push('Tickets:', ...ticketLines(withSubRunCounts(s)));
  if (s.subRuns?.length) {
    const tree = treeCounts(s.subRuns);
    lines.push(`Epics: ${tree.tickets} tickets in ${s.subRuns.length} sub-runs: ${countsText(tree.counts)}`);
  }
  const budget = s.budget?.usd !== undefined ? ` of a ${usd(s.budget.usd)} budget` : '';
  const tokenCap = s.budget?.tokens !== undefined ? ` of ${s.budget.tokens}` : '';
  const tree = treeCostUsd(s);
  const live = tree > s.cost.usd ? ` (${usd(tree)} with the spending of running sub-runs)` : '';
  lines.push(
    `Cost: ${usd(s.cost.usd)}${budget} (${s.cost.tokens}${tokenCap} tokens${cachedNote(s.cost.usage)})${live}`,
  );
  lines.push(...toolCallLines(s.toolCalls));
  const decisions = s.audit.filter((a) => a.action !== 'gate-opened');
  if (decisions.length > 0) {
    lines.push('Audit:');
    for (const a of decisions) {
      const what = [a.gate, a.ticketId && !a.gate?.includes(a.ticketId) ? a.ticketId : undefined]
        .filter(Boolean)
        .join(' ');
      lines.push(
        `  ${a.at}  ${a.by}: ${a.action}${what ? ` ${what}` : ''}${a.comment ? ` — ${a.comment}` : ''}${a.error ? ` (ignored: ${a.error})` : ''}`,
      );
    }
  }
  if (s.auditUnavailable) lines.push(`Audit: not shown: ${s.auditUnavailable}`);
  if (s.error) lines.push(`Error: ${s.error}`);
  return lines.join('\n');
}

/**
 * A result ready for the terminal: every string one line (printableDeep), except the report's
 * summary, which keeps its lines (each escaped); resultText quotes them so none reads as Maestro's.
 */
export function printableResult(r: RunResult): RunResult {
  const safe = printableDeep(r);
  return { ...safe, report: { ...safe.report, summary: terminalBlock(r.report.summary) } };
}

/**
 * `, N cached` when the provider served prompt tokens from its cache (billed at the cached price,
 * part of the tokens shown before it); nothing when none were, so uncached runs read as before.
 */
function cachedNote(u: { cachedTokens: number } | undefined): string {
  return u && u.cachedTokens > 0 ? `, ${u.cachedTokens} cached` : '';
}

/** Summary printed when a run has finished (give it `printableResult(result)`). */
export function resultText(r: RunResult): string {
  const roles = Object.entries(r.cost.byRole)
    .map(([role, u]) => `${role} ${usd(u.usd)} (${u.promptTokens + u.completionTokens} tok${cachedNote(u)})`)
    .join(', ');
  return [
    `Result: ${r.status} — ${acceptedText(r.tickets)}`,
    `Report: ${r.report.headline}`,
    ...r.report.summary.split('\n').map((l) => `  │ ${l}`),
    ...(r.report.followUps.length > 0 ? ['Follow-ups:', ...r.report.followUps.map((f) => `  - ${f}`)] : []),
    'Tickets:',
    ...ticketLines(r.tickets),
    `Cost: ${usd(r.cost.usd)} total, ${r.cost.tokens} tokens${cachedNote(r.cost.usage)}, ${r.cost.usage.calls} LLM calls — by role: ${roles}`,
    ...codingAgentLines(r.calls),
    ...toolCallLines(r.toolCalls),
  ].join('\n');
}
