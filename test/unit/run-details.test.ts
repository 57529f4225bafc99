import { generateDag } from '../../src/bench/dag';
import { DETAILS_ROWS } from '../../src/workflows/details';
import { RunState } from '../../src/workflows/run-state';

function stateWith(tickets: number): RunState {
  const state = new RunState('maestro-details', { goal: 'g', roles: [] }, () => '2026-01-01T00:00:00.000Z');
  state.adoptPlan({ summary: 's', tickets: generateDag('layered', tickets) });
  state.phase = 'executing';
  return state;
}

describe('run details (Web UI current details)', () => {
  it('lists every ticket of a small plan', () => {
    const state = stateWith(DETAILS_ROWS);
    state.mark('T1', 'running');
    const details = state.details();
    expect(details.split('\n').filter((l) => /^\| T\d+ /.test(l))).toHaveLength(DETAILS_ROWS);
    expect(details).toContain('| T1 | designer | running |');
  });

  it('shows counts per state, pending gates and the running tickets of a large plan, not a row per ticket', () => {
    const state = stateWith(1000);
    for (let i = 1; i <= 30; i++) state.mark(`T${i}`, 'running');
    for (let i = 1; i <= 4; i++) state.mark(`T${i}`, 'accepted');
    state.mark('T5', 'escalated');
    state.book.open('ticket', 'T5 was not accepted', { onTimeout: 'wait' }, 'T5');
    const details = state.details();
    expect(details).toContain('> **Waiting for a person:** ticket:T5#1 — T5 was not accepted');
    expect(details).toContain('**Tickets:** 1000 — pending 970 · running 25 · accepted 4 · escalated 1');
    expect(details).toContain('**Running** (25):');
    const rows = details.split('\n').filter((l) => /^\| T\d+ /.test(l));
    expect(rows).toHaveLength(20);
    expect(rows[0]).toContain('| T6 |');
    expect(details).toContain('… and 5 more running');
    expect(details).not.toContain('| T999 |');
    expect(details.length).toBeLessThan(3000);
  });
});
