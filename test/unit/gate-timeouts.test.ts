/**
 * The docs' gate-timeout table (docs/gates-and-budgets.md) is the code's table (gate-timeouts.ts),
 * and no timeout policy of any gate kind sends work back: a timed-out gate cannot start a loop.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GATE_TIMEOUTS, timeoutDecision } from '../../src/workflows/gate-timeouts';

const PAGE = readFileSync(path.join(__dirname, '..', '..', 'docs', 'gates-and-budgets.md'), 'utf8');
/** The page as one line of text, so wrapped sentences still match. */
const PROSE = PAGE.replace(/\s+/g, ' ');

describe('gate timeout policies', () => {
  it.each(Object.entries(GATE_TIMEOUTS))('the docs state what each policy means at a %s gate', (kind, policies) => {
    const row = PAGE.split('\n').find(
      (l) => l.trim().startsWith(`| \`${kind}\``) && l.includes(policies.approve.meaning),
    );
    expect(row).toBeDefined();
    expect(row).toContain(policies.reject.meaning);
    expect(PROSE).toContain(`\`fail\`: ${policies.fail.meaning}`);
    expect(PROSE).toContain(`\`wait\`: ${policies.wait.meaning}`);
  });

  it('never turns a timeout into a retry, a re-plan or a revision', () => {
    for (const policies of Object.values(GATE_TIMEOUTS)) {
      for (const p of Object.values(policies)) expect(p.decision).not.toBe('retry');
    }
    expect(timeoutDecision('ticket', 'reject', ['approve', 'reject', 'retry', 'skip', 'abort'])).toBe('skip');
    expect(timeoutDecision('ticket', 'approve', ['reject', 'retry', 'skip', 'abort'])).toBe('skip');
    expect(timeoutDecision('plan', 'approve', ['approve', 'reject'])).toBe('approve');
  });
});
