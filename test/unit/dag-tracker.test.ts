import { generateDag, scheduleAll } from '../../src/bench/dag';
import { DagTracker } from '../../src/shared/dag-tracker';
import { blockedTickets, readyTickets } from '../../src/shared/plan-graph';
import type { TicketState } from '../../src/shared/types';

const FINAL: readonly TicketState[] = ['accepted', 'accepted', 'accepted', 'escalated', 'failed', 'skipped'];

/** The rescan answer, with tickets at a gate counted as running (as the scheduler did). */
function rescan(tickets: ReturnType<typeof generateDag>, states: Map<string, TicketState>, held: Set<string>) {
  const view = new Map(states);
  for (const id of held) view.set(id, 'running');
  const blocked = blockedTickets(tickets, view);
  for (const id of blocked) view.set(id, 'blocked');
  return { blocked, ready: readyTickets(tickets, view) };
}

describe('DagTracker', () => {
  it.each([
    ['layered', 1],
    ['random', 7],
    ['random', 42],
  ] as const)('gives the same ready and blocked tickets as whole-plan rescans (%s, seed %d)', (shape, seed) => {
    const tickets = generateDag(shape, 300, seed);
    const states = new Map<string, TicketState>(tickets.map((t) => [t.id, 'pending']));
    const dag = new DagTracker(tickets, states);
    const held = new Set<string>();
    let r = seed;
    const rand = () => ((r = (r * 1103515245 + 12345) % 2147483648), r / 2147483648);
    for (let round = 0; round < 2000; round++) {
      const expected = rescan(tickets, states, held);
      const blocked = dag.blocked();
      expect(blocked).toEqual(expected.blocked);
      for (const id of blocked) states.set(id, 'blocked');
      expect(dag.ready()).toEqual(expected.ready);
      expect(dag.ready(3)).toEqual(expected.ready.slice(0, 3));
      // Start one ready ticket, finish one running ticket, decide one held ticket: at random.
      const running = [...states].filter(([, s]) => s === 'running').map(([id]) => id);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
      const move = rand();
      if (move < 0.45 && expected.ready.length > 0) {
        const id = pick(expected.ready)!;
        states.set(id, 'running');
        dag.set(id, 'running');
      } else if (move < 0.85 && running.length > 0) {
        const id = pick(running)!;
        const to = pick(FINAL)!;
        states.set(id, to);
        dag.set(id, to);
        if (to === 'escalated' && rand() < 0.5) {
          held.add(id);
          dag.hold(id, true);
        }
      } else if (held.size > 0) {
        const id = pick([...held])!;
        held.delete(id);
        // The gate's decision: accept anyway, retry (pending again), or skip.
        const to = pick<TicketState>(['accepted', 'pending', 'skipped'])!;
        dag.hold(id, false);
        states.set(id, to);
        dag.set(id, to);
      }
    }
  });

  it('starts from recorded states (a run continued as new mid-plan)', () => {
    const tickets = generateDag('layered', 12);
    const states = new Map<string, TicketState>(tickets.map((t) => [t.id, 'pending']));
    for (const id of ['T1', 'T2', 'T5']) states.set(id, 'accepted');
    states.set('T3', 'skipped');
    states.set('T4', 'running');
    const dag = new DagTracker(tickets, states);
    expect(dag.blocked()).toEqual(['T7', 'T11']);
    expect(dag.ready()).toEqual(['T6', 'T9']);
  });

  it('schedules a 1,000-ticket DAG to the end, in the same order as rescans', () => {
    for (const shape of ['layered', 'random'] as const) {
      const tickets = generateDag(shape, 1000);
      const incremental = scheduleAll(tickets, 50, 'incremental');
      expect(incremental).toEqual(scheduleAll(tickets, 50, 'rescan'));
      expect(incremental.rounds).toBe(1000);
    }
  });
});
