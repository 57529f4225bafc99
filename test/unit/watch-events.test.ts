/**
 * What scripts and piped terminals get from `maestro watch`: JSON events per change
 * (`--json`) and the plain line-per-change view (also used by `maestro run`).
 */
import { changes } from '../../src/client/follow';
import { watchEvents, type WatchEvent } from '../../src/client/watch/events';
import type { WatchSnapshot } from '../../src/client/watch/render';
import type { ToolCallRecord } from '../../src/shared/tools';
import type { RunStatus } from '../../src/shared/types';
import { planGate, progress, status, ticket } from '../helpers/status-fixtures';

const AT = new Date('2026-11-25T13:00:10.000Z');
const snap = (s: RunStatus, extra: Partial<WatchSnapshot> = {}): WatchSnapshot => ({
  status: s,
  progress: {},
  execution: 'RUNNING',
  ...extra,
});

describe('watchEvents (maestro watch --json)', () => {
  const planning = status({ phase: 'planning', tickets: [] });
  const gated = status({ phase: 'planning', tickets: [], pendingGates: [planGate()] });
  const tickets = [ticket('T1', 'running'), ticket('T2', 'pending')];
  const executing = status({
    tickets,
    audit: [{ at: '2026-11-25T13:00:09.000Z', by: 'ana', action: 'approve', gate: 'plan#1', comment: 'ok' }],
  });

  it('starts with the phase, and every event is one JSON-serialisable object with type, at and runId', () => {
    const events = watchEvents(undefined, snap(planning), AT);
    expect(events).toEqual([{ type: 'phase', at: AT.toISOString(), runId: 'run-1', phase: 'planning' }]);
    for (const e of events) expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('announces a gate with how to approve it, and its closing with the decision', () => {
    const opened = watchEvents(snap(planning), snap(gated), AT);
    expect(opened).toEqual([
      expect.objectContaining({
        type: 'gate',
        event: 'opened',
        gate: expect.objectContaining({ id: 'plan#1', kind: 'plan' }),
        approve: {
          maestro: "maestro approve run-1 --gate 'plan#1'",
          temporal: `temporal workflow signal --workflow-id run-1 --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
        },
      }),
    ]);
    const closed = watchEvents(snap(gated), snap(executing), AT);
    const types = closed.map((e) => e.type);
    expect(types).toEqual(['phase', 'gate', 'ticket', 'ticket']);
    expect(closed[1]).toMatchObject({ event: 'closed', decision: { by: 'ana', action: 'approve', comment: 'ok' } });
    expect(closed[2]).toMatchObject({ type: 'ticket', id: 'T1', role: 'writer', state: 'running', attempt: 0 });
  });

  it('reports ticket moves (stage and attempt too), cost changes, and nothing when nothing changed', () => {
    const a = snap(executing, { progress: { T1: progress('T1', 1, 'working') } });
    const b = snap(executing, { progress: { T1: progress('T1', 1, 'reviewing') } });
    expect(watchEvents(a, a, AT)).toEqual([]);
    const moved = watchEvents(a, b, AT);
    expect(moved).toEqual([
      expect.objectContaining({ type: 'ticket', id: 'T1', state: 'reviewing', previous: 'working', attempt: 1 }),
    ]);
    const done = status({ ...executing, tickets: [ticket('T1', 'accepted'), ticket('T2', 'running')] });
    done.cost = { ...done.cost, usd: 0.002, tokens: 1000 };
    const events = watchEvents(b, snap(done), AT);
    expect(events.map((e) => [e.type, 'id' in e ? e.id : '', 'state' in e ? e.state : ''])).toEqual([
      ['ticket', 'T1', 'accepted'],
      ['ticket', 'T2', 'running'],
      ['cost', '', ''],
    ]);
    expect(events[0]).toMatchObject({ tokens: 1000, usd: 0.002 });
  });

  it('announces each retry once, with what is retried, which attempt and why', () => {
    const retry = { what: 'plan', attempt: 2, maximumAttempts: 5, reason: 'the LLM server sent no token for 60 s' };
    const withRetries = (retries: WatchSnapshot['retries']): WatchSnapshot => ({
      ...snap(planning),
      ...(retries ? { retries } : {}),
    });
    const retries = (a: WatchSnapshot['retries'], b: WatchSnapshot['retries']) =>
      watchEvents(withRetries(a), withRetries(b), AT).filter((e) => e.type === 'retry');
    expect(retries(undefined, [retry])).toEqual([{ type: 'retry', at: AT.toISOString(), runId: 'run-1', ...retry }]);
    expect(retries([retry], [retry])).toEqual([]);
    expect(retries([retry], [{ ...retry, attempt: 3 }])).toHaveLength(1);
  });

  it('ends with an end event carrying the outcome', () => {
    const final = status({ phase: 'completed', tickets: [ticket('T1', 'accepted'), ticket('T2', 'escalated')] });
    const events = watchEvents(snap(executing), snap(final, { execution: 'COMPLETED' }), AT);
    const end = events.at(-1) as Extract<WatchEvent, { type: 'end' }>;
    expect(end).toMatchObject({ type: 'end', phase: 'completed', execution: 'COMPLETED', accepted: 1, tickets: 2 });
  });
  it('announces each agent tool call once, whether first seen running or in a finished attempt', () => {
    const call = (turn: number, summary: string, status: 'ok' | 'error' = 'ok'): ToolCallRecord => ({
      tool: 'run_command',
      role: 'tester',
      ticketId: 'T2',
      turn,
      summary,
      startedAt: `2026-11-25T13:00:0${turn}.000Z`,
      durationMs: 90,
      status,
      exitCode: status === 'ok' ? 0 : 1,
      bytes: 255,
      attempt: 1,
    });
    const first = call(1, 'run_command node tests/check-page.mjs', 'error');
    const second = call(2, 'run_command node tests/check-page.mjs');
    const seen = new Set<string>();
    const tools = (before: WatchSnapshot | undefined, now: WatchSnapshot) =>
      watchEvents(before, now, AT, 'default', seen).filter((e) => e.type === 'tool');

    const live = snap(executing, { liveToolCalls: { T2: [first] } });
    expect(tools(undefined, live)).toEqual([{ type: 'tool', at: AT.toISOString(), runId: 'run-1', call: first }]);
    // A poll that missed the running loop's calls, then the finished attempt: only the new call.
    const missed = snap(executing);
    expect(tools(live, missed)).toEqual([]);
    const finished = snap({ ...executing, toolCalls: [first, second] });
    expect(tools(missed, finished).map((e) => (e.type === 'tool' ? e.call.turn : 0))).toEqual([2]);
    // Without a kept set, the previous snapshot says what was announced.
    expect(watchEvents(live, finished, AT).filter((e) => e.type === 'tool')).toHaveLength(1);
  });
});

describe('changes (plain lines for pipes and `maestro run`)', () => {
  it('prints a gate that opens with both approve commands, and who closed it', () => {
    const before = status({ phase: 'planning' });
    const gated = status({ phase: 'planning', pendingGates: [planGate()] });
    expect(changes(before, gated, { gates: true, namespace: 'team-a' })).toEqual([
      'Waiting for approval: plan gate — The plan has 4 tickets; approve it to start them',
      "  approve: maestro approve run-1 --gate 'plan#1'",
      `       or: temporal workflow signal --namespace team-a --workflow-id run-1 --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
    ]);
    const after = status({
      phase: 'executing',
      audit: [{ at: '2026-11-25T13:00:09.000Z', by: 'web-ui-test', action: 'approve', gate: 'plan#1' }],
    });
    expect(changes(gated, after, { gates: true })).toContain('Gate plan closed: approve by web-ui-test');
    expect(changes(before, gated)).toEqual([]); // `maestro run` prompts for gates itself
  });
});

describe('re-plans, as each happens (issue 23)', () => {
  const first = status({ phase: 'planning', tickets: [], planAttempts: 1 });
  const timedOut = status({
    phase: 'planning',
    tickets: [],
    planAttempts: 2,
    replans: [
      { attempt: 2, reason: "the Boss's plan call failed: no answer within 1000 ms; gave up after its retries" },
    ],
  });
  const invalidToo = status({
    phase: 'planning',
    tickets: [],
    planAttempts: 3,
    replans: [
      ...timedOut.replans!,
      { attempt: 3, reason: 'the previous plan was invalid: T2 depends on unknown ticket T9' },
    ],
  });

  it('prints each re-plan once with its reason, also when a poll missed one', () => {
    expect(changes(first, timedOut)).toEqual([
      "Re-planning (attempt 2): the Boss's plan call failed: no answer within 1000 ms; gave up after its retries",
    ]);
    expect(changes(timedOut, invalidToo)).toEqual([
      'Re-planning (attempt 3): the previous plan was invalid: T2 depends on unknown ticket T9',
    ]);
    // Two re-plans between two polls: both, in order.
    expect(changes(first, invalidToo)).toHaveLength(2);
    expect(changes(invalidToo, invalidToo)).toEqual([]);
  });

  it('runs of older code (no reasons in the status) keep the line they had', () => {
    expect(changes(first, status({ phase: 'planning', tickets: [], planAttempts: 2 }))).toEqual([
      'Re-planning (attempt 2): the previous plan was invalid',
    ]);
  });

  it('maestro watch --json has a replan event per re-plan', () => {
    const events = watchEvents(snap(first), snap(invalidToo), AT).filter((e) => e.type === 'replan');
    expect(events).toEqual([
      { type: 'replan', at: AT.toISOString(), runId: 'run-1', attempt: 2, reason: timedOut.replans![0]!.reason },
      { type: 'replan', at: AT.toISOString(), runId: 'run-1', attempt: 3, reason: invalidToo.replans![1]!.reason },
    ]);
  });
});
