/**
 * A call lost with its worker (SIGKILL mid-stream) is read from the last heartbeat's `llm`
 * progress and booked once by the next attempt; forged or absent progress books nothing, and a
 * call already booked (same start) is not booked again.
 */
import { lostStreamingCall, progressTracker } from '../../src/activities/context';
import type { LlmCallRecord } from '../../src/shared/types';

const meta = { kind: 'work' as const, role: 'coder', ticketId: 'T1' };
const bill = (n: number) => ({
  promptTokens: 100,
  cachedTokens: 0,
  completionTokens: n,
  usd: 0.001,
  estimated: true as const,
});
const ctx = (heartbeatDetails: unknown, attempt = 2) => ({ info: { heartbeatDetails, attempt } }) as never;
const startedAt = '2026-12-07T12:00:00.000Z';

describe('lostStreamingCall', () => {
  it('books the previous attempt’s call in flight at its last heartbeat, with the tokens it streamed', () => {
    const lost = lostStreamingCall(
      [],
      meta,
      'm',
      bill,
      ctx({ calls: [], llm: { tokens: 42, tokensPerSecond: 3, startedAt } }),
    );
    expect(lost).toMatchObject({ ...meta, model: 'm', attempt: 1, startedAt, completionTokens: 42, estimated: true });
    expect(lost!.error).toBeDefined();
  });

  it('books nothing on a first attempt, without progress, for forged progress, or twice', () => {
    const llm = { tokens: 42, tokensPerSecond: 3, startedAt };
    expect(lostStreamingCall([], meta, 'm', bill, ctx({ calls: [], llm }, 1))).toBeUndefined();
    expect(lostStreamingCall([], meta, 'm', bill, ctx({ calls: [] }))).toBeUndefined();
    expect(lostStreamingCall([], meta, 'm', bill, ctx('x'))).toBeUndefined();
    expect(lostStreamingCall([], meta, 'm', bill, ctx({ llm: { tokens: 1, startedAt: 'soon' } }))).toBeUndefined();
    expect(
      lostStreamingCall([], meta, 'm', bill, ctx({ llm: { tokens: 1, startedAt: 'x'.repeat(1e6) } })),
    ).toBeUndefined();
    const forged = lostStreamingCall([], meta, 'm', bill, ctx({ llm: { tokens: -5, startedAt } }));
    expect(forged?.completionTokens).toBe(0);
    const huge = lostStreamingCall([], meta, 'm', bill, ctx({ llm: { tokens: 1e300, startedAt } }));
    expect(huge?.completionTokens).toBe(1e9);
    const booked = [{ startedAt } as LlmCallRecord];
    expect(lostStreamingCall(booked, meta, 'm', bill, ctx({ calls: booked, llm }, 3))).toBeUndefined();
  });

  it('a settled call leaves the heartbeat details (progress there means a call in flight)', () => {
    const t = progressTracker([]);
    t.onProgress({ tokens: 3, tokensPerSecond: 1, startedAt });
    expect(t.details().llm).toBeDefined();
    t.settled();
    expect(t.details().llm).toBeUndefined();
  });
});
