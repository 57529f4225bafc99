/**
 * The tool-call lines of the `maestro watch` screen: one line with the totals and the calls per
 * agent ticket, then the latest few calls (finished attempts from the run's status, plus the
 * running agent loops' own calls), so a person sees what the agents are doing, in bounded space.
 */
import type { ToolCallRecord } from '../../shared/tools';
import { RECENT_TOOL_CALLS, toolCallBrief, toolCallCounts, toolCountText } from '../../shared/tool-call-views';

/** Calls of finished attempts (run status) followed by those of running agent loops. */
export function watchedToolCalls(
  finished: readonly ToolCallRecord[] | undefined,
  live: Readonly<Record<string, readonly ToolCallRecord[]>> | undefined,
): ToolCallRecord[] {
  return [...(finished ?? []), ...Object.values(live ?? {}).flat()];
}

/** Plain lines (the caller styles and cuts them): a header, then the latest calls; none without calls. */
export function toolBlockLines(calls: readonly ToolCallRecord[]): string[] {
  if (calls.length === 0) return [];
  const counts = toolCallCounts(calls);
  const failed = [...counts.values()].reduce((n, c) => n + c.failed, 0);
  const per = [...counts].map(([id, n]) => `${id} ${toolCountText(n)}`).join(' · ');
  return [
    `Tool calls: ${calls.length}${failed > 0 ? ` (${failed} failed)` : ''} — ${per}`,
    ...calls.slice(-RECENT_TOOL_CALLS).map((c) => `  ${toolCallBrief(c)}`),
  ];
}

/**
 * For the piped `maestro watch` (one line per change): a line per tool call not printed before
 * (`seen` remembers them across polls, keyed by ticket, start time and call), so a call shows once
 * whether it was first seen live or in a finished attempt.
 */
export function newToolCallLines(seen: Set<string>, calls: readonly ToolCallRecord[]): string[] {
  const out: string[] = [];
  for (const c of calls) {
    const key = toolCallKey(c);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(`  ${toolCallBrief(c)}`);
  }
  return out;
}

/** What identifies one tool call whether it is seen live or in a finished attempt. */
export function toolCallKey(c: ToolCallRecord): string {
  return `${c.ticketId}|${c.startedAt}|${c.turn}|${c.summary}`;
}
