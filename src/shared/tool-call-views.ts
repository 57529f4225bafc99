/**
 * Short, bounded views of tool calls for the places a person looks while a run goes on: the Web
 * UI's current details (written by the orchestrator, so this file stays deterministic) and the
 * `maestro watch` screen. Counts cover every call; only the last few are listed, so a long agent
 * never grows a screen or a details payload.
 */
import { markdownInline } from './model-text';
import type { ToolCallRecord } from './tools';

/** How many of the latest tool calls the watch screen and the Web UI details list. */
export const RECENT_TOOL_CALLS = 5;

/** Calls and failed calls (tool errors and rejected ones) of one ticket. */
export interface ToolCallCount {
  calls: number;
  failed: number;
}

/** Counts per ticket id. */
export function toolCallCounts(calls: readonly ToolCallRecord[]): Map<string, ToolCallCount> {
  const counts = new Map<string, ToolCallCount>();
  for (const c of calls) {
    const n = counts.get(c.ticketId) ?? { calls: 0, failed: 0 };
    n.calls++;
    if (c.status !== 'ok') n.failed++;
    counts.set(c.ticketId, n);
  }
  return counts;
}

/** `8 (1 failed)`, or `-` for no calls. */
export function toolCountText(n: ToolCallCount | undefined): string {
  if (!n || n.calls === 0) return '-';
  return n.failed > 0 ? `${n.calls} (${n.failed} failed)` : String(n.calls);
}

/** One call in a line: `T4 tester turn 3: run_command node tests/check-page.mjs — failed, exit 1, 196 ms`. */
export function toolCallBrief(c: ToolCallRecord): string {
  const how = c.status === 'ok' ? 'ok' : c.status === 'rejected' ? 'rejected' : 'failed';
  const exit = c.exitCode !== undefined ? `, exit ${c.exitCode}` : '';
  return `${c.ticketId} ${c.role} turn ${c.turn}: ${c.summary} — ${how}${exit}, ${c.durationMs} ms`;
}

/** Markdown for the Web UI: calls per ticket are in the ticket table; this lists the latest ones. */
export function recentToolCallsMarkdown(calls: readonly ToolCallRecord[]): string[] {
  if (calls.length === 0) return [];
  const failed = calls.filter((c) => c.status !== 'ok').length;
  const recent = calls.slice(-RECENT_TOOL_CALLS);
  return [
    '',
    `**Tool calls:** ${calls.length}${failed > 0 ? ` (${failed} failed)` : ''} · latest ${recent.length}:`,
    ...recent.map((c) => `- ${markdownInline(toolCallBrief(c))}`),
  ];
}
