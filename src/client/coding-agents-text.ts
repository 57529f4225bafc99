/**
 * Terminal lines for the tickets a coding-agent CLI worked (roles with an `executor`): which CLI,
 * which tickets, and what its calls through Maestro's LLM gateway cost, so a run's bill shows who
 * spent it. Shown by `run`, `result` and `status` of a finished run.
 */
import type { LlmCallRecord } from '../shared/types';

interface AgentBill {
  tickets: Set<string>;
  calls: number;
  failed: number;
  tokens: number;
  usd: number;
}

/** `Coding agents (calls through Maestro's LLM gateway):` then one line per CLI, e.g. `codex: T3 — 4 calls, 28482 tok, $0.0097`. */
export function codingAgentLines(calls: readonly LlmCallRecord[] | undefined): string[] {
  const byAgent = new Map<string, AgentBill>();
  for (const c of calls ?? []) {
    if (typeof c.executor !== 'string' || c.executor === '') continue;
    const bill = byAgent.get(c.executor) ?? { tickets: new Set(), calls: 0, failed: 0, tokens: 0, usd: 0 };
    if (c.ticketId) bill.tickets.add(c.ticketId);
    bill.calls += 1;
    if (c.error) bill.failed += 1;
    bill.tokens += c.promptTokens + c.completionTokens;
    bill.usd += c.usd;
    byAgent.set(c.executor, bill);
  }
  if (byAgent.size === 0) return [];
  const lines = [...byAgent.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([agent, b]) => {
      const failed = b.failed > 0 ? ` (${b.failed} failed)` : '';
      const tickets = [...b.tickets].sort().join(', ') || 'no ticket';
      return `  ${agent}: ${tickets} — ${b.calls} call(s)${failed}, ${b.tokens} tok, $${b.usd.toFixed(b.usd < 1 ? 4 : 2)}`;
    });
  return ["Coding agents (their calls through Maestro's LLM gateway, included above):", ...lines];
}
