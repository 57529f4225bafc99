/** Terminal lines for the tool calls of agent tickets, shown by `status`, `run` and `result`. */
import type { ToolCallRecord } from '../shared/tools';

/** How many tool calls are listed one per line (the newest); the header counts all of them. */
const SHOWN = 30;

/** A header with totals, then one line per call: `T3 coder turn 4: run_command npm test — ok, exit 0, 812 ms, 1.2 kB`. */
export function toolCallLines(calls: readonly ToolCallRecord[] | undefined): string[] {
  if (!calls || calls.length === 0) return [];
  const failed = calls.filter((c) => c.status === 'error').length;
  const rejected = calls.filter((c) => c.status === 'rejected').length;
  const ms = calls.reduce((sum, c) => sum + c.durationMs, 0);
  const notes = [failed > 0 ? `${failed} failed` : '', rejected > 0 ? `${rejected} rejected` : ''].filter(Boolean);
  const header = `Tool calls: ${calls.length}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}, ${ms} ms in tools`;
  const lines = calls.slice(-SHOWN).map((c) => {
    const exit = c.exitCode !== undefined ? `, exit ${c.exitCode}` : '';
    const size = c.bytes >= 1024 ? `${(c.bytes / 1024).toFixed(1)} kB` : `${c.bytes} B`;
    return `  ${c.ticketId} ${c.role} turn ${c.turn}: ${c.summary} — ${c.status}${exit}, ${c.durationMs} ms, ${size}`;
  });
  const skipped = calls.length > SHOWN ? [`  (${calls.length - SHOWN} earlier calls not shown)`] : [];
  return [header, ...skipped, ...lines];
}
