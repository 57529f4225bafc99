/**
 * A forged run status against the live re-plan lines (follow.ts `newReplans`, used by `maestro
 * run`, `maestro watch` and `watch --json`): a workflow on the run's task queue can answer the
 * status query with `replans` of any shape and size. The CLI must neither crash nor print an
 * unbounded flood: wrong-shaped entries are skipped, a reason is cut, and only the newest
 * re-plans of one poll are told.
 */
import { changes, newReplans } from '../../src/client/follow';
import { watchEvents } from '../../src/client/watch/events';
import type { WatchSnapshot } from '../../src/client/watch/render';
import type { RunStatus } from '../../src/shared/types';
import { MAX_REPLANS_SHOWN, MAX_REPLAN_REASON_CHARS } from '../../src/workflows/replans';
import { status } from '../helpers/status-fixtures';

const AT = new Date('2026-11-25T13:00:10.000Z');
const planning = status({ phase: 'planning', tickets: [] });
const forged = (replans: unknown): RunStatus => ({ ...planning, planAttempts: 3, replans }) as unknown as RunStatus;
const snap = (s: RunStatus): WatchSnapshot => ({ status: s, progress: {}, execution: 'RUNNING' });

const many = Array.from({ length: 200_000 }, (_, i) => ({ attempt: i + 2, reason: `r${i}` }));

describe.each([
  ['a string', 'garbage'],
  ['an object', { attempt: 2, reason: 'x' }],
  ['a number', 42],
  ['null entries and wrong types', [null, 5, 'x', { attempt: 'two', reason: 'x' }, { attempt: 2, reason: { a: 1 } }]],
  [
    'NaN and Infinity attempts',
    [
      { attempt: Number.NaN, reason: 'x' },
      { attempt: Infinity, reason: 'y' },
    ],
  ],
  ['200,000 re-plans', many],
  ['a 1 MB reason', [{ attempt: 2, reason: 'A'.repeat(1_000_000) }]],
])('forged replans: %s', (_name, replans) => {
  it('maestro run/watch lines: no crash, at most 50 re-plan lines, each bounded', () => {
    const lines = changes(planning, forged(replans));
    const told = lines.filter((l) => l.startsWith('Re-planning'));
    expect(told.length).toBeLessThanOrEqual(MAX_REPLANS_SHOWN);
    for (const l of told) expect(l.length).toBeLessThan(MAX_REPLAN_REASON_CHARS + 100);
    // A second poll of the same status tells nothing again.
    expect(changes(forged(replans), forged(replans)).filter((l) => l.startsWith('Re-planning'))).toEqual([]);
  });

  it('watch --json events: no crash, each one a bounded replan with a number and a string', () => {
    const events = watchEvents(snap(planning), snap(forged(replans)), AT).filter((e) => e.type === 'replan');
    expect(events.length).toBeLessThanOrEqual(MAX_REPLANS_SHOWN);
    for (const e of events) {
      expect(e).toEqual(expect.objectContaining({ attempt: expect.any(Number), reason: expect.any(String) }));
      expect(JSON.stringify(e).length).toBeLessThan(MAX_REPLAN_REASON_CHARS + 200);
    }
  });
});

it('well-formed re-plans are still told once each, newest last', () => {
  const one = forged([{ attempt: 2, reason: 'invalid plan' }]);
  const two = forged([
    { attempt: 2, reason: 'invalid plan' },
    { attempt: 3, reason: 'rejected by ana' },
  ]);
  expect(newReplans(undefined, one)).toEqual([{ attempt: 2, reason: 'invalid plan' }]);
  expect(newReplans(one, two)).toEqual([{ attempt: 3, reason: 'rejected by ana' }]);
});
