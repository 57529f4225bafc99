/**
 * What a person sees of agent tool calls while a run goes on: the `maestro watch` screen (finished
 * attempts plus the running agent loops' own calls, counted per ticket, the latest few listed),
 * the piped watch lines (each call once) and the Web UI's current details of the run (tool calls
 * per ticket in the ticket table, re-opened tickets, the latest calls), all bounded in size; and
 * the rules that keep re-opens bounded and never leave work built on withdrawn output.
 */
import { changes } from '../../src/client/follow';
import { statusText } from '../../src/client/format';
import { statusFromResult } from '../../src/client/run-views';
import { renderWatch, type WatchSnapshot } from '../../src/client/watch/render';
import { newToolCallLines, watchedToolCalls } from '../../src/client/watch/tool-block';
import type { ToolCallRecord } from '../../src/shared/tools';
import type { RunInput, TicketOutcome } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import { reopenRefusal } from '../../src/workflows/reopen';
import { RunState } from '../../src/workflows/run-state';
import { progress, status, ticket } from '../helpers/status-fixtures';

const NOW = new Date('2026-11-25T13:01:12.000Z');

function call(ticketId: string, turn: number, summary: string, extra: Partial<ToolCallRecord> = {}): ToolCallRecord {
  return {
    tool: summary.split(' ')[0]!,
    role: ticketId === 'T4' ? 'tester' : 'coder',
    ticketId,
    turn,
    summary,
    startedAt: `2026-11-25T13:00:${String(10 + turn).padStart(2, '0')}.000Z`,
    durationMs: 100 * turn,
    status: 'ok',
    bytes: 200,
    attempt: 1,
    ...extra,
  };
}

const coderCalls = [
  call('T3', 1, 'list_files'),
  call('T3', 2, 'write_file index.html'),
  call('T3', 3, 'check_page index.html', { status: 'error' }),
  call('T3', 4, 'write_file index.html'),
  call('T3', 5, 'check_page index.html'),
];
const testerLive = [
  call('T4', 1, 'list_files'),
  call('T4', 2, 'write_file tests/check-page.mjs'),
  call('T4', 3, 'run_command node tests/check-page.mjs', { status: 'error', exitCode: 1 }),
];

describe('tool calls on the watch screen', () => {
  it('counts the calls per ticket, finished and live, and lists the latest five', () => {
    const s = status({
      tickets: [ticket('T3', 'accepted', { role: 'coder' }), ticket('T4', 'running', { role: 'tester' })],
      toolCalls: coderCalls,
    });
    const snap: WatchSnapshot = {
      status: s,
      progress: { T4: progress('T4', 1, 'working') },
      liveToolCalls: { T4: testerLive },
      execution: 'RUNNING',
    };
    const lines = renderWatch(snap, { now: NOW, width: 120 });
    const at = lines.findIndex((l) => l.startsWith('Tool calls:'));
    expect(lines[at]).toBe('Tool calls: 8 (2 failed) — T3 5 (1 failed) · T4 3 (1 failed)');
    expect(lines.slice(at + 1, at + 6)).toEqual([
      '  T3 coder turn 4: write_file index.html — ok, 400 ms',
      '  T3 coder turn 5: check_page index.html — ok, 500 ms',
      '  T4 tester turn 1: list_files — ok, 100 ms',
      '  T4 tester turn 2: write_file tests/check-page.mjs — ok, 200 ms',
      '  T4 tester turn 3: run_command node tests/check-page.mjs — failed, exit 1, 300 ms',
    ]);
    expect(lines[at + 6]).toBe('');
    // Bounded: a hundred calls still take six lines, each cut to the terminal's width.
    const many = Array.from({ length: 100 }, (_, i) => call('T3', i + 1, `run_command echo ${'x'.repeat(200)}`));
    const big = renderWatch({ ...snap, status: { ...s, toolCalls: many }, liveToolCalls: {} }, { now: NOW, width: 80 });
    const from = big.findIndex((l) => l.startsWith('Tool calls: 100'));
    expect(big.slice(from + 1).filter((l) => l.startsWith('  T3 coder turn'))).toHaveLength(5);
    expect(Math.max(...big.map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  it('shows nothing about tools for a run without agents', () => {
    const lines = renderWatch(
      { status: status({ tickets: [ticket('T1', 'accepted')] }), progress: {}, execution: 'RUNNING' },
      { now: NOW },
    );
    expect(lines.join('\n')).not.toContain('Tool calls');
  });

  it('piped: prints each call once, whether first seen live or in a finished attempt', () => {
    const seen = new Set<string>();
    expect(newToolCallLines(seen, watchedToolCalls(undefined, { T4: testerLive.slice(0, 2) }))).toEqual([
      '  T4 tester turn 1: list_files — ok, 100 ms',
      '  T4 tester turn 2: write_file tests/check-page.mjs — ok, 200 ms',
    ]);
    // The attempt finished: its calls are now in the run's status, the live list is gone.
    expect(newToolCallLines(seen, watchedToolCalls(testerLive, {}))).toEqual([
      '  T4 tester turn 3: run_command node tests/check-page.mjs — failed, exit 1, 300 ms',
    ]);
  });
});

describe('the Web UI details of a run and the progress lines', () => {
  const input: RunInput = {
    goal: 'Build a landing page for a tea room',
    roles: [{ name: 'coder' }, { name: 'tester' }],
  } as RunInput;
  const outcome = (ticketId: string, toolCalls: ToolCallRecord[]): TicketOutcome => ({
    ticketId,
    status: 'accepted',
    attempts: 1,
    summary: `${ticketId} done`,
    artifacts: [
      { path: ticketId === 'T3' ? 'index.html' : 'TEST-REPORT.md', sha256: 'a'.repeat(64), bytes: 10, uri: 'x' },
    ],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
    toolCalls,
  });

  it('lists tool calls per ticket, the re-opened ticket and the latest calls, bounded', () => {
    const state = new RunState('run-1', input, () => '2026-11-25T13:00:00.000Z');
    state.adoptPlan({
      summary: 'Build, then test',
      tickets: [
        { id: 'T3', role: 'coder', title: 'Build the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: [] },
        { id: 'T4', role: 'tester', title: 'Test the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: ['T3'] },
      ],
    });
    const before = state.status();
    state.settleSpending(outcome('T3', coderCalls));
    state.accept(outcome('T3', coderCalls));
    state.settleSpending(outcome('T4', testerLive));
    state.reopen(
      'T3',
      "re-opened (1 of 2): T4's check failed: 8/9 checks passed; FAIL declares the language on <html>",
    );
    state.book.log({
      by: 'boss',
      action: 'reopen',
      ticketId: 'T3',
      comment: "re-opened (1 of 2): T4's check failed: 8/9",
    });
    expect(state.files()).toEqual([]); // withdrawn: nothing is built on the old page
    const md = state.details();
    expect(md).toContain('| Ticket | Role | State | Attempts | Tool calls | Cost | Title |');
    expect(md).toContain('| T3 | coder | pending (re-opened 1x) | 1 | 5 (1 failed) | $0.0000 | Build the page |');
    expect(md).toContain('| T4 | tester | pending | 1 | 3 (1 failed) | $0.0000 | Test the page |');
    expect(md).toContain('**Tool calls:** 8 (2 failed) · latest 5:');
    // Model text (the command) is escaped for markdown: it cannot start a link, a table or a heading.
    expect(md).toContain('- T4 tester turn 3\\: run\\_command node tests/check\\-page\\.mjs — failed, exit 1, 300 ms');
    expect(md.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(5);
    // `maestro run` and piped `maestro watch` print the re-open once.
    const lines = changes(before, state.status());
    expect(lines).toContain("  T3 re-opened (1 of 2): T4's check failed: 8/9");
    expect(changes(state.status(), state.status())).toEqual([]);
  });
});

it('maestro status of a finished run still lists its tool calls (they come from the result)', () => {
  const state = new RunState(
    'run-2',
    { goal: 'g', roles: [{ name: 'coder' }] } as RunInput,
    () => '2026-11-25T13:00:00.000Z',
  );
  state.adoptPlan({
    summary: 'Build',
    tickets: [
      { id: 'T3', role: 'coder', title: 'Build the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: [] },
    ],
  });
  const done: TicketOutcome = {
    ticketId: 'T3',
    status: 'accepted',
    attempts: 1,
    summary: 'done',
    artifacts: [],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
    toolCalls: coderCalls,
  };
  state.settleSpending(done);
  state.accept(done);
  const text = statusText(statusFromResult(state.result({ headline: 'h', summary: 's', followUps: [] })));
  expect(text).toContain('Tool calls: 5 (1 failed)');
  expect(text).toContain('T3 coder turn 3: check_page index.html — error');
});

describe('re-open rules (what sends a testing ticket to a gate instead)', () => {
  const plan = {
    summary: 'Build, then test twice',
    tickets: [
      { id: 'T3', role: 'coder', title: 'Build the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: [] },
      { id: 'T4', role: 'tester', title: 'Test the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: ['T3'] },
      { id: 'T5', role: 'writer', title: 'Describe the page', spec: 's', acceptanceCriteria: ['a'], dependsOn: ['T3'] },
    ],
  };
  const accepted = (id: string): TicketOutcome => ({
    ticketId: id,
    status: 'accepted',
    attempts: 1,
    summary: `${id} done`,
    artifacts: [],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
  });
  const setup = () => {
    const state = new RunState('run-3', { goal: 'g', roles: [] }, () => '2026-11-25T13:00:00.000Z');
    state.adoptPlan(plan);
    state.accept(accepted('T3'));
    return state;
  };
  const ask = (state: RunState, maxReopens = 2) =>
    reopenRefusal({ state, ticket: plan.tickets[1]!, requests: [{ ticketId: 'T3', feedback: 'FAIL x' }], maxReopens });

  it('allows a re-open while the other dependents have not started', () => {
    expect(ask(setup())).toBeUndefined();
  });
  it('refuses once the ticket was re-opened maxReopens times, or when re-opening is off', () => {
    const state = setup();
    state.reopen('T3', 'note');
    state.accept(accepted('T3'));
    expect(ask(state, 2)).toBeUndefined();
    state.reopen('T3', 'note');
    state.accept(accepted('T3'));
    expect(ask(state, 2)).toBe(
      "T3 was already re-opened 2 time(s) (the limit, --max-reopens 2) and T4's check still fails",
    );
    expect(ask(setup(), 0)).toBe('re-opening tickets is off for this run (--max-reopens 0)');
  });
  it('refuses when another ticket already works on the output, or the ticket is not accepted', () => {
    const state = setup();
    state.mark('T5', 'running');
    expect(ask(state)).toBe('re-opening T3 would leave T5 (running) built on its old output');
    const pending = new RunState('run-4', { goal: 'g', roles: [] }, () => 'now');
    pending.adoptPlan(plan);
    expect(ask(pending)).toBe('T3 is pending, not accepted, so it cannot be re-opened');
  });
});
