/**
 * A run's input (any Temporal client can start one) carries each role's executor bounds; the
 * ticket workflow builds its activity options from them. Forged bounds (strings, negatives, NaN,
 * huge) must give finite, sane options, never a workflow task failure or unbounded retries.
 */
import { executorPermitsWanted, executorRetry, executorWallMs } from '../../src/workflows/executor-attempt';
import { MAX_EXECUTOR_WALL_MS, DEFAULT_EXECUTOR_WALL_MS } from '../../src/shared/executor-settings';
import type { TicketInput } from '../../src/shared/types';

const inputWith = (executor: Record<string, unknown>) =>
  ({ role: { name: 'coder', description: '', executor: { agent: 'codex', ...executor } } }) as unknown as TicketInput;

const forged: unknown[] = [-5, 0, '3', 'abc', 1e12, Number.NaN, Infinity, 2.5, null, { a: 1 }];

describe('forged executor bounds in a run input', () => {
  it.each(forged)('maxRetries %p: a whole, finite number of starts, 1 to 11', (v) => {
    const n = executorRetry(inputWith({ maxRetries: v })).maximumAttempts;
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(11);
  });
  it.each(forged)('maxCalls %p: a whole number of permits >= 1', (v) => {
    const n = executorPermitsWanted(inputWith({ maxCalls: v }));
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1);
  });
  it.each(forged)('wallMs %p: a finite wall time within the bounds', (v) => {
    const n = executorWallMs(inputWith({ wallMs: v }));
    expect(Number.isInteger(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(1000);
    expect(n).toBeLessThanOrEqual(MAX_EXECUTOR_WALL_MS);
  });
  it('sound bounds are kept as they are', () => {
    const i = inputWith({ maxRetries: 3, maxCalls: 7, wallMs: 90_000 });
    expect(executorRetry(i).maximumAttempts).toBe(4);
    expect(executorPermitsWanted(i)).toBe(7);
    expect(executorWallMs(i)).toBe(90_000);
    expect(executorWallMs(inputWith({}))).toBe(DEFAULT_EXECUTOR_WALL_MS);
  });
});
