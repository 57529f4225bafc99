/**
 * What a spend report with its grant's nonce may still book (issue 19, 4.1): a forger who read the
 * nonce in a history books at most REPORT_CEILING_FACTOR × the dearest call so far per granted
 * call, and never more calls than granted; grants of runs recorded before nonces are not checked.
 */
import { cappedReport, REPORT_CEILING_FACTOR, reportProblem } from '../../src/workflows/report-checks';

const usage = (usd: number, tokens: number, calls: number) => ({
  promptTokens: tokens / 2,
  cachedTokens: 0,
  completionTokens: tokens / 2,
  usd,
  calls,
});
const grant = { seq: 3, calls: 2, nonce: 'n-1' };
const dearest = { usd: 0.001, tokens: 1000 };

describe('spend report checks', () => {
  it('refuses a report without the nonce, with another one, or with more calls than granted', () => {
    expect(reportProblem(grant, { usage: usage(0, 0, 1) })).toBe(
      'the report does not echo the nonce of grant 3 (none given)',
    );
    expect(reportProblem(grant, { nonce: 'n-2', usage: usage(0, 0, 1) })).toContain('(a different one)');
    expect(reportProblem(grant, { nonce: 'n-1', usage: usage(0, 0, 2), reviewUsage: usage(0, 0, 1) })).toBe(
      'the report lists 3 calls, more calls than its grant 3 allowed (2)',
    );
    expect(reportProblem(grant, { nonce: 'n-1', usage: usage(0.001, 900, 2) })).toBeUndefined();
    expect(reportProblem({ seq: 3, calls: 1 }, { usage: usage(999, 1e9, 50) })).toBeUndefined();
  });

  it('books a $999 report of a granted call at the ceiling, and a genuine one as it is', () => {
    const forged = cappedReport(grant, { usage: usage(999, 2e6, 1) }, dearest);
    expect(forged.usage.usd).toBeLessThanOrEqual(REPORT_CEILING_FACTOR * dearest.usd);
    expect(forged.usage.promptTokens + forged.usage.completionTokens).toBeLessThanOrEqual(
      REPORT_CEILING_FACTOR * dearest.tokens,
    );
    expect(forged.capped).toContain('the rest from the ticket');
    const genuine = cappedReport(grant, { usage: usage(0.0015, 1500, 2), reviewUsage: usage(0.0005, 400, 0) }, dearest);
    expect(genuine).toEqual({ usage: usage(0.0015, 1500, 2), reviewUsage: usage(0.0005, 400, 0) });
  });
});

describe("an epic's cumulative report", () => {
  it('is checked for the nonce only: its calls add up every grant of the epic', () => {
    const cumulative = { nonce: 'n-1', usage: usage(0.01, 9000, 9), spentByRole: {} };
    expect(reportProblem(grant, cumulative)).toBeUndefined();
    expect(reportProblem(grant, { ...cumulative, nonce: 'x' })).toContain('nonce');
  });
});
