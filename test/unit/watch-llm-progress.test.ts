/**
 * The live LLM lines of `maestro watch` / `maestro run`: the streaming progress an LLM activity
 * heartbeats and the retries of pending activities. Heartbeat details and failure messages were
 * written by a worker (and partly by a model or its server), so every field is checked and every
 * line is one bounded terminal line whatever they held.
 */
import {
  llmLines,
  llmProgressLine,
  parseLlmProgress,
  ProgressNews,
  retryLine,
  retryOf,
  RetryNews,
} from '../../src/client/watch/llm-progress';
import { renderWatch } from '../../src/client/watch/render';
import { status, ticket } from '../helpers/status-fixtures';

const started = '2026-12-07T12:00:00.000Z';
const good = { calls: [], llm: { tokens: 1234, tokensPerSecond: 14.56, startedAt: started } };

describe('parseLlmProgress', () => {
  it('reads what an LLM activity heartbeats', () => {
    expect(parseLlmProgress(good)).toEqual({ tokens: 1234, tokensPerSecond: 14.6, startedAt: started });
  });

  it.each([
    ['undefined', undefined],
    ['no llm', { calls: [] }],
    ['llm an array', { llm: [1] }],
    ['tokens a string', { llm: { tokens: '12' } }],
    ['tokens negative', { llm: { tokens: -1 } }],
    ['tokens absurd', { llm: { tokens: 1e300 } }],
    ['tokens NaN', { llm: { tokens: NaN } }],
  ])('shows nothing for details with %s', (_, details) => {
    expect(parseLlmProgress(details)).toBeUndefined();
  });

  it('drops single wrong fields: a forged rate reads 0, a start that is no date is left out', () => {
    expect(parseLlmProgress({ llm: { tokens: 5, tokensPerSecond: Infinity, startedAt: 'x'.repeat(1000) } })).toEqual({
      tokens: 5,
      tokensPerSecond: 0,
    });
  });
});

describe('progress and retry lines', () => {
  const now = Date.parse(started) + 12_000;

  it('says tokens, rate and time so far', () => {
    expect(llmProgressLine('T2', 'coder', parseLlmProgress(good)!, now)).toBe(
      'T2 [coder] model: 1.2k tokens, 14.6 tok/s, 12 s',
    );
    expect(
      llmLines(
        [{ id: 'T2', role: 'coder' }],
        { plan: { tokens: 3, tokensPerSecond: 1 }, T2: parseLlmProgress(good)! },
        now,
      ),
    ).toEqual(['plan [boss] model: 3 tokens, 1 tok/s', 'T2 [coder] model: 1.2k tokens, 14.6 tok/s, 12 s']);
  });

  it('says which attempt of how many after what, for the plan and for a ticket', () => {
    const plan = retryOf('plan', {
      type: 'planGoal',
      attempt: 2,
      maximumAttempts: 5,
      lastFailure:
        'plan: the LLM server sent no token for 60 s (MAESTRO_LLM_IDLE_TIMEOUT_MS): it is hung or overloaded; will retry',
    })!;
    expect(retryLine(plan)).toBe(
      'plan: attempt 2 of 5 after: plan: the LLM server sent no token for 60 s (MAESTRO_LLM_IDLE_TIMEOUT_MS): it is hung or overloaded; will retry',
    );
    const work = retryOf('T3', { type: 'performTicket', attempt: 3, lastFailure: 'boom' })!;
    expect(retryLine(work)).toBe('T3 work: attempt 3 after: boom');
    // A first attempt, or a retry with no failure to tell, is no news.
    expect(retryOf('T3', { type: 'performTicket', attempt: 1, lastFailure: 'x' })).toBeUndefined();
    expect(retryOf('T3', { type: 'performTicket', attempt: 2 })).toBeUndefined();
  });

  it('escapes a hostile reason (ESC sequences, newlines) and bounds its length', () => {
    const line = retryLine({
      what: 'T1 work',
      attempt: 2,
      reason: `\u001b]52;c;ZXZpbA==\u0007\u001b[2J server said:\nfake line ${'x'.repeat(5000)}`,
    });
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line.length).toBeLessThanOrEqual(280);
    expect(line.startsWith('T1 work: attempt 2 after: ')).toBe(true);
  });

  it('keeps a bounded reason of a forged 1 MB last failure (watch --json prints the reason whole)', () => {
    const r = retryOf('T1', { type: 'performTicket', attempt: 2, lastFailure: `\u001b[2J${'x'.repeat(1_000_000)}` });
    expect(r?.reason.length).toBeLessThanOrEqual(2_001);
    expect(r?.reason.startsWith('\u001b[2Jxxx')).toBe(true);
  });

  it('prints each retry once, and a progress line only when it changed and is due', () => {
    const news = new RetryNews();
    const r = { what: 'plan', attempt: 2, reason: 'x' };
    expect(news.fresh([r])).toHaveLength(1);
    expect(news.fresh([r])).toEqual([]);
    expect(news.fresh([{ ...r, attempt: 3 }])).toHaveLength(1);
    const progress = new ProgressNews(2_000);
    expect(progress.fresh(['T1 [a] model: 1 tokens'], 0)).toHaveLength(1);
    expect(progress.fresh(['T1 [a] model: 2 tokens'], 1_000)).toEqual([]);
    expect(progress.fresh(['T1 [a] model: 2 tokens'], 2_500)).toHaveLength(1);
    expect(progress.fresh(['T1 [a] model: 2 tokens'], 9_000)).toEqual([]);
  });
});

describe('the live screen', () => {
  it('shows the streaming progress and the retries of a running run', () => {
    const s = status({ phase: 'executing', tickets: [ticket('T1', 'running', { role: 'coder' })] });
    const lines = renderWatch(
      {
        status: s,
        progress: {},
        execution: 'RUNNING',
        llm: { T1: { tokens: 40, tokensPerSecond: 8, startedAt: started } },
        retries: [{ what: 'T1 work', attempt: 2, maximumAttempts: 4, reason: 'the LLM server sent no token for 60 s' }],
      },
      { now: new Date(Date.parse(started) + 5_000), width: 120, color: false },
    ).join('\n');
    expect(lines).toContain('T1 [coder] model: 40 tokens, 8 tok/s, 5 s');
    expect(lines).toContain('T1 work: attempt 2 of 4 after: the LLM server sent no token for 60 s');
  });
});
