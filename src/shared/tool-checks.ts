/**
 * The parts of the tool settings a ticket workflow needs (is the role an agent, what its checks
 * say, a command's default time limit), apart from tools.ts and its zod schemas: a workflow
 * evaluates every module it imports each time it starts, and a ticket child that runs no tools
 * should not build the tool-config schemas (about 1.7 ms of the workflow thread per ticket).
 */
import type { AgentSettings, ToolCallRecord } from './tools';

/** Wall-clock limit of one `run_command` when the role sets none. */
export const DEFAULT_SANDBOX_TIMEOUT_MS = 60_000;

/** Whether a role works as an agent loop: it has built-in tools or MCP servers. */
export function isAgent(settings: AgentSettings | undefined): settings is AgentSettings {
  return settings !== undefined && (settings.tools.length > 0 || (settings.mcp?.length ?? 0) > 0);
}

/**
 * Whether a call is a check (a command or a page check) that says something about the work: not
 * one that never ran because the agent got its call wrong or the worker lacks the tool.
 */
export function countsAsCheck(c: ToolCallRecord): boolean {
  return (c.tool === 'run_command' || c.tool === 'check_page') && c.notRun === undefined;
}

/** Whether a check ran and failed on its merits (not a call the agent got wrong, not a missing tool). */
export function failedCheck(c: ToolCallRecord): boolean {
  return countsAsCheck(c) && c.status === 'error';
}

/** What a reviewer reads about a check call. */
function outcomeText(c: ToolCallRecord): string {
  if (c.notRun === 'invalid-call') return "not run (the agent's own call was invalid: not a finding about the work)";
  if (c.notRun === 'unavailable') return 'not run (the tool is not available on this worker: a setup problem)';
  if (c.status === 'ok') return 'passed';
  return c.status === 'rejected' ? 'not run (rejected)' : 'FAILED';
}

/** The commands and page checks of an agent attempt as the reviewing Boss reads them. */
export function checksOf(calls: readonly ToolCallRecord[]): string[] {
  return calls
    .filter((c) => c.tool === 'run_command' || c.tool === 'check_page')
    .map((c) => `${c.summary} — ${outcomeText(c)}${c.exitCode !== undefined ? ` (exit ${c.exitCode})` : ''}`);
}
