/**
 * A run of 1,000 tickets in 10 epics as a person reads it in `maestro status` and `maestro watch`:
 * one line per epic with its sub-run's counts per state, a line that sums the tree, the running
 * sub-runs' spending in the cost, and a gate deep in the tree listed with the command that
 * decides it through the top run. Also the plain parts: the epic's goal and the depth bound.
 */
import { changes } from '../../src/client/follow';
import { statusText } from '../../src/client/format';
import { subRunView } from '../../src/client/sub-runs';
import { approveHints } from '../../src/client/watch/approve-hints';
import { renderWatch } from '../../src/client/watch/render';
import { epicGoal, mayPlanEpics, MAX_BOSS_LEVELS } from '../../src/shared/epics';
import { MAX_GOAL_CHARS } from '../../src/shared/constants';
import type { RunStatus, TicketState } from '../../src/shared/types';
import { planGate, status, ticket } from '../helpers/status-fixtures';

/** A sub-run of 100 tickets: `accepted` accepted, 10 running (while any are left), the rest pending. */
function subRun(epic: string, accepted: number, gates = 0): RunStatus {
  const states: TicketState[] = Array.from({ length: 100 }, (_, i) =>
    i < accepted ? 'accepted' : i < accepted + 10 ? 'running' : 'pending',
  );
  return status({
    runId: `run-1/${epic}`,
    tickets: states.map((s, i) => ticket(`T${i + 1}`, s)),
    pendingGates: Array.from({ length: gates }, () => planGate({ reason: `approve the plan of epic ${epic}` })),
  });
}

function thousand(): RunStatus {
  const epics = Array.from({ length: 10 }, (_, i) =>
    ticket(`T${i + 1}`, i < 3 ? 'accepted' : 'running', { role: 'boss', title: `Epic ${i + 1} of 10` }),
  );
  const subRuns = epics.map((e, i) => subRunView(e.id, subRun(e.id, i < 3 ? 100 : 40, i === 5 ? 1 : 0)));
  return status({ tickets: epics, subRuns });
}

describe('a 1,000-ticket run grouped by epic', () => {
  it('maestro status: one line per epic with counts, the tree summed, sub-run gates with their command', () => {
    const text = statusText(thousand());
    const lines = text.split('\n');
    expect(lines.length).toBeLessThan(30);
    expect(text).toMatch(/T1 +boss +accepted .*Epic 1 of 10 {2}\[100 tickets: 100 accepted\]/);
    expect(text).toMatch(
      /T4 +boss +running +-x +\$0\.0000 +Epic 4 of 10 {2}\[100 tickets: 40 accepted · 10 running · 50 pending\]/,
    );
    expect(text).toContain('Epics: 1000 tickets in 10 sub-runs: 580 accepted · 70 running · 350 pending');
    expect(text).toContain('Waiting for a person in epic T6: plan#1 — approve the plan of epic T6');
    expect(text).toContain("decide: maestro approve run-1 --epic T6 --gate 'plan#1'");
    expect(text).toContain("maestro reject run-1 --epic T6 --gate 'plan#1' --comment");
  });

  it('the cost includes what running sub-runs have spent so far (finished ones are rolled up already)', () => {
    const s = thousand();
    s.cost.usd = 1;
    s.subRuns = s.subRuns!.map((v) => ({ ...v, cost: { usd: 0.5, tokens: 100 } }));
    // 7 running epics × $0.50 on top of the run's own $1 (the 3 accepted ones are in the $1).
    expect(statusText(s)).toContain('Cost: $1.00 (3000 tokens) ($4.50 with the spending of running sub-runs)');
  });

  it('in a budgeted run, what running sub-runs already reported to the run is not counted twice', () => {
    const s = thousand();
    s.cost.usd = 1;
    s.subRuns = s.subRuns!.map((v) => ({ ...v, cost: { usd: 0.5, tokens: 100 } }));
    // The 7 running epics reported $0.40 each to the run (it is in its $1); $0.10 each is not yet.
    s.tickets = s.tickets.map((t) => (t.state === 'running' ? { ...t, usage: { ...t.usage, usd: 0.4 } } : t));
    expect(statusText(s)).toContain('($1.70 with the spending of running sub-runs)');
  });

  it('maestro watch: rows per epic with counts, the tree line, and the sub-run gate with --epic', () => {
    const lines = renderWatch(
      { status: thousand(), progress: {}, execution: 'RUNNING', startedAt: new Date('2026-11-25T13:00:00Z') },
      { now: new Date('2026-11-25T13:01:00Z'), width: 160, height: 40 },
    );
    const text = lines.join('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(text).toContain('executing · waiting for approval');
    expect(text).toContain('Epics: 1,000 tickets in 10 sub-runs: 580 accepted · 70 running · 350 pending');
    expect(text).toMatch(/T6 +boss +. needs you .*Epic 6 of 10 {2}\[100 tickets: 40 accepted/);
    expect(text).toMatch(/T2 +boss +✓ accepted .*\[100 tickets: 100 accepted\]/);
    expect(text).toContain('plan gate of epic T6');
    expect(text).toContain("approve: maestro approve run-1 --epic T6 --gate 'plan#1'");
    expect(text).toContain('temporal workflow signal --workflow-id run-1/T6 --name approve');
  });
});

describe('piped maestro watch (one line per change) with epics', () => {
  it('announces a sub-run gate once, with the --epic command, and its closing', () => {
    const before = thousand();
    const quiet = { ...before, subRuns: before.subRuns!.map((v) => ({ ...v, pendingGates: [] })) };
    const opened = changes(quiet, before, { gates: true });
    expect(opened).toEqual([
      'Waiting for approval: plan gate of epic T6 — approve the plan of epic T6',
      "  approve: maestro approve run-1 --epic T6 --gate 'plan#1'",
      `       or: temporal workflow signal --workflow-id run-1/T6 --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
    ]);
    expect(changes(before, before, { gates: true })).toEqual([]);
    expect(changes(before, quiet, { gates: true })).toEqual(['Gate plan of epic T6 closed']);
  });
});

describe('a sub-run shown on its own (maestro status/watch --epic T6)', () => {
  it('names the command through the top run, since a sub-run id is not a run id the CLI takes', () => {
    const hints = approveHints('run-1/T6', planGate());
    expect(hints.maestro).toBe("maestro approve run-1 --epic T6 --gate 'plan#1'");
    expect(hints.temporal).toContain('--workflow-id run-1/T6 ');
  });
});

describe('epics: the sub-Boss goal and the depth bound', () => {
  it("the sub-Boss's goal is its epic with its dependencies' outputs, bounded like a goal", () => {
    const epic = {
      id: 'T4',
      role: 'boss',
      title: 'The shop pages',
      spec: 'Build every page of the shop.',
      acceptanceCriteria: ['every page links home'],
      dependsOn: ['T1'],
    };
    const dep = {
      ticketId: 'T1',
      role: 'designer',
      title: 'Style guide',
      summary: 'Palette and type',
      artifacts: [{ path: 'css/site.css', sha256: 'x', bytes: 1, uri: 'file:///x' }],
    };
    const goal = epicGoal(epic, [dep]);
    expect(goal).toContain('Epic T4: The shop pages');
    expect(goal).toContain('- every page links home');
    expect(goal).toContain('- T1 Style guide (designer): Palette and type Files: css/site.css');
    expect(epicGoal({ ...epic, spec: 'x'.repeat(5000) }, []).length).toBe(MAX_GOAL_CHARS);
  });

  it('only a top run that asked for epics may plan them; a sub-run never does', () => {
    expect(MAX_BOSS_LEVELS).toBe(2);
    expect(mayPlanEpics({})).toBe(false);
    expect(mayPlanEpics({ epics: true })).toBe(true);
    expect(mayPlanEpics({ epics: true, epic: { parentRunId: 'r', ticketId: 'T1', level: 2 } })).toBe(false);
  });
});
