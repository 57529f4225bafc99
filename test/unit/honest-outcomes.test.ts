/**
 * Honest outcomes (issue 19, section 6), the pure parts: what `--yes` decides at each kind of gate,
 * and how a ticket and a run are named once a ticket was accepted over failing checks.
 */
import { yesDecision } from '../../src/client/gate-prompt';
import { resultText, statusText } from '../../src/client/format';
import { changes } from '../../src/client/follow';
import { watchExitCode } from '../../src/client/commands/watch';
import { acceptedText, runStatusOf, ticketStateLabel } from '../../src/shared/outcomes';
import type { GateView, RunResult, RunStatus, TicketOutcome, TicketView } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import { runDetails } from '../../src/workflows/details';
import { epicOutcome } from '../../src/workflows/epics';
import { RunState } from '../../src/workflows/run-state';

const gate = (over: Partial<GateView>): GateView => ({
  id: 'ticket:T1#1',
  kind: 'ticket',
  ticketId: 'T1',
  reason: 'T1 was not accepted after 3 attempt(s) in all: …',
  openedAt: '2026-01-01T00:00:00.000Z',
  onTimeout: 'wait',
  state: 'pending',
  decisions: ['approve', 'reject', 'retry', 'skip', 'abort'],
  ...over,
});

describe('what --yes decides', () => {
  it.each([
    ['a plan gate', gate({ id: 'plan#1', kind: 'plan', decisions: ['approve', 'reject'] }), false, 'approve'],
    ['a final gate', gate({ id: 'final#1', kind: 'final', decisions: ['approve', 'reject'] }), false, 'approve'],
    ['a budget gate', gate({ id: 'budget#1', kind: 'budget', decisions: ['approve', 'reject'] }), true, 'reject'],
    ['a tool approval', gate({ tool: 'run_command' }), false, 'approve'],
    ["a ticket's own gate", gate({}), false, 'skip'],
    ["a ticket's own gate with --accept-failing", gate({}), true, 'approve'],
    [
      'a ticket without a result, even with --accept-failing',
      gate({ decisions: ['reject', 'retry', 'skip', 'abort'] }),
      true,
      'skip',
    ],
  ])('%s', (_what, g, acceptFailing, decision) => {
    expect(yesDecision(g, acceptFailing)).toBe(decision);
  });
});

const ticket = (id: string, over: Partial<TicketView> = {}): TicketView => ({
  id,
  role: 'coder',
  title: `Ticket ${id}`,
  state: 'accepted',
  dependsOn: [],
  attempts: 3,
  childId: `run-1/${id}`,
  usage: emptyUsage(),
  ...over,
});

describe('a ticket accepted over failing checks is never a success', () => {
  const overruled = ticket('T2', {
    acceptedOverFailures: true,
    overruled: 'T2 was not accepted after 3 attempt(s) in all: no files — accepted by ana at the ticket gate',
  });
  const tickets = [ticket('T1'), overruled];

  it('is named as such, and the run is partial', () => {
    expect(ticketStateLabel(overruled)).toBe('accepted over failing checks');
    expect(ticketStateLabel(tickets[0]!)).toBe('accepted');
    expect(runStatusOf(tickets)).toBe('partial');
    expect(runStatusOf([ticket('T1')])).toBe('completed');
    expect(acceptedText(tickets)).toBe('1/2 tickets accepted on their merits, 1 accepted over failing checks (T2)');
    expect(acceptedText([ticket('T1')])).toBe('1/1 tickets accepted');
  });

  it('every view says so: summary, status, follow lines, watch exit code, Web UI details', () => {
    const status: RunStatus = {
      runId: 'run-1',
      goal: 'g',
      phase: 'completed',
      planAttempts: 1,
      tickets,
      pendingGates: [],
      cost: { usd: 0, tokens: 0, usage: emptyUsage(), byRole: {} },
      audit: [],
    };
    expect(statusText(status)).toMatch(/T2 +coder +accepted over failing checks .*accepted by ana at the ticket gate/);
    const result = {
      ...status,
      status: 'partial',
      plan: { summary: 's', tickets: [] },
      gates: [],
      calls: [],
      report: { headline: 'h', summary: 's', followUps: [] },
      manifest: [],
    } as unknown as RunResult;
    expect(resultText(result)).toContain(
      'Result: partial — 1/2 tickets accepted on their merits, 1 accepted over failing checks (T2)',
    );
    const before = { ...status, tickets: [tickets[0]!, { ...overruled, state: 'escalated' as const }] };
    expect(changes(before, status)).toEqual([
      '  T2 [coder] Ticket T2: accepted over failing checks after 3 attempt(s) in all, $0.0000',
    ]);
    // Without an outcome (a status read from the run), the tickets decide: not 0.
    expect(watchExitCode({ execution: 'COMPLETED', status, progress: {} })).toBe(3);
    const details = runDetails({
      gates: [],
      phase: 'completed',
      usage: emptyUsage(),
      tickets: new Map(tickets.map((t) => [t.id, t])),
      counts: new Map(),
      running: new Set(),
      toolCalls: [],
    });
    expect(details).toContain('| T2 | coder | accepted over failing checks |');
  });
});

describe('the run state flags what was accepted over failures, and only that', () => {
  const outcome = (ticketId: string): TicketOutcome => ({
    ticketId,
    status: 'accepted',
    attempts: 1,
    summary: `${ticketId} done`,
    artifacts: [],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
  });
  const report = { headline: 'h', summary: 's', followUps: [] };
  const plan = {
    summary: 's',
    tickets: ['T1', 'T2'].map((id) => ({
      id,
      role: 'coder',
      title: id,
      spec: 'x',
      acceptanceCriteria: ['y'],
      dependsOn: [],
    })),
  };

  it('approved at its gate: flagged with what it failed, no error, run partial; re-opened and accepted on merits: plain', () => {
    const state = new RunState('run-1', { goal: 'g', roles: [] }, () => '2026-01-01T00:00:00.000Z');
    state.adoptPlan(plan);
    state.accept(outcome('T1'));
    state.mark('T2', 'escalated', 'T2 was not accepted after 3 attempt(s) in all: no files');
    state.accept(outcome('T2'), 'accepted by ana at the ticket gate');
    const t2 = state.ticketView('T2');
    expect(t2).toMatchObject({
      state: 'accepted',
      acceptedOverFailures: true,
      overruled: 'T2 was not accepted after 3 attempt(s) in all: no files — accepted by ana at the ticket gate',
    });
    expect(t2).not.toHaveProperty('error');
    expect(state.result(report)).toMatchObject({ status: 'partial', acceptedOverFailures: ['T2'] });

    state.reopen('T2', 'T3 found a fault');
    expect(state.ticketView('T2')).not.toHaveProperty('acceptedOverFailures');
    state.mark('T2', 'running');
    state.accept(outcome('T2'));
    expect(state.ticketView('T2')).not.toHaveProperty('overruled');
    const r = state.result(report);
    expect(r.status).toBe('completed');
    expect(r).not.toHaveProperty('acceptedOverFailures');
  });

  it('an epic whose sub-run ended partial is accepted over its shortfall', () => {
    const sub = {
      runId: 'run-1/T1',
      goal: 'g',
      status: 'partial',
      plan,
      planAttempts: 1,
      gates: [],
      audit: [],
      calls: [],
      report,
      tickets: [ticket('T1'), ticket('T2', { state: 'skipped' })],
      manifest: [],
      cost: { usd: 0, tokens: 0, usage: emptyUsage(), byRole: {} },
    } as RunResult;
    const epic = { ...plan.tickets[0]!, role: 'boss' };
    expect(epicOutcome(epic, sub)).toMatchObject({
      status: 'accepted',
      shortfall: 'its sub-run ended partial: 1/2 tickets accepted',
    });
    expect(epicOutcome(epic, { ...sub, status: 'completed' })).not.toHaveProperty('shortfall');
  });
});
