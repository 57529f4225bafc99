/** The result's "Coding agents" lines: who spent what through the LLM gateway, from the call records. */
import { codingAgentLines } from '../../src/client/coding-agents-text';
import type { LlmCallRecord } from '../../src/shared/types';

function call(over: Partial<LlmCallRecord>): LlmCallRecord {
  return {
    kind: 'work',
    role: 'coder',
    model: 'm',
    promptTokens: 100,
    cachedTokens: 0,
    completionTokens: 10,
    usd: 0.001,
    latencyMs: 5,
    attempt: 1,
    startedAt: '2026-12-07T00:00:00Z',
    repaired: false,
    ...over,
  };
}

test('one line per CLI with its tickets, calls, failed calls, tokens and cost; other calls are not counted', () => {
  const lines = codingAgentLines([
    call({ role: 'boss', kind: 'plan', usd: 1 }),
    call({ ticketId: 'T3', executor: 'codex' }),
    call({ ticketId: 'T3', executor: 'codex', error: 'timeout', completionTokens: 0 }),
    call({ ticketId: 'T5', executor: 'codex' }),
    call({ ticketId: 'T2', role: 'writer', executor: 'claude-code', usd: 0.0025 }),
  ]);
  expect(lines).toEqual([
    "Coding agents (their calls through Maestro's LLM gateway, included above):",
    '  claude-code: T2 — 1 call(s), 110 tok, $0.0025',
    '  codex: T3, T5 — 3 call(s) (1 failed), 320 tok, $0.0030',
  ]);
});

test('a run with no coding agent prints nothing', () => {
  expect(codingAgentLines([call({ ticketId: 'T1' })])).toEqual([]);
  expect(codingAgentLines(undefined)).toEqual([]);
});
