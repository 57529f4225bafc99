/** The words of a re-plan (issue 23, 1.5): a failed call's message once its retries are used up, bounded entries. */
import {
  addReplan,
  callFailedReason,
  MAX_REPLAN_REASON_CHARS,
  MAX_REPLANS_SHOWN,
  settledFailure,
} from '../../src/workflows/replans';
import type { ReplanView } from '../../src/shared/types';

describe('re-plan reasons', () => {
  it('a failed call no longer promises a retry once Temporal gave up on it', () => {
    expect(settledFailure('boss plan (attempt 1): the LLM server sent no answer within 1000 ms; will retry')).toBe(
      'boss plan (attempt 1): the LLM server sent no answer within 1000 ms; gave up after its retries',
    );
    expect(settledFailure('x: rate limited (429); retrying after 2000 ms as the server asked')).toBe(
      'x: rate limited (429); gave up after its retries',
    );
    expect(settledFailure('x: failed with 500; will retry with backoff')).toBe(
      'x: failed with 500; gave up after its retries',
    );
    // Anything else is left as it is ("will retry" inside a sentence is not a promise at its end).
    expect(settledFailure('x: the model refused: I will retry nothing. Not retried.')).toBe(
      'x: the model refused: I will retry nothing. Not retried.',
    );
  });

  it('says whether the call failed or its answers never matched the schema', () => {
    expect(callFailedReason('a; will retry', false)).toBe("the Boss's plan call failed: a; gave up after its retries");
    expect(callFailedReason('b', true)).toBe("the Boss's answer did not match the plan schema: b");
  });

  it('keeps the newest entries, each bounded', () => {
    const list: ReplanView[] = [];
    for (let i = 2; i < 2 + MAX_REPLANS_SHOWN + 10; i++) addReplan(list, i, 'x'.repeat(5000));
    expect(list).toHaveLength(MAX_REPLANS_SHOWN);
    expect(list[0]!.attempt).toBe(12);
    expect(list.every((r) => r.reason.length === MAX_REPLAN_REASON_CHARS)).toBe(true);
  });
});
