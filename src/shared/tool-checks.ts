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

/** The commands and page checks of an agent attempt as the reviewing Boss reads them. */
export function checksOf(calls: readonly ToolCallRecord[]): string[] {
  return calls
    .filter((c) => c.tool === 'run_command' || c.tool === 'check_page')
    .map(
      (c) =>
        `${c.summary} — ${c.status === 'ok' ? 'passed' : c.status === 'rejected' ? 'not run (rejected)' : 'FAILED'}${c.exitCode !== undefined ? ` (exit ${c.exitCode})` : ''}`,
    );
}
