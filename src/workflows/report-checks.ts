/**
 * What a spend report may book (issue 19): anyone who can signal a run can send
 * `maestro.spendReport`, so a report is checked against the grant it answers before it touches
 * the bill. It must echo the grant's nonce, may not report more calls than the grant allowed, and
 * books at most REPORT_CEILING_FACTOR × the dearest call so far per call it reports; what is
 * above that is left to the ticket's outcome, which the run books when the ticket ends (its own
 * history, not a signal), less what its reports booked. Pure and deterministic (workflow code).
 */
import type { ReportedUsage } from '../shared/permits';
import { totalTokens, type Usage } from '../shared/usage';

/**
 * Per reported call, at most this many times the dearest call so far is booked from a report.
 * A genuine call dearer than that (a long agent conversation) is booked in full from the ticket's
 * outcome; a forger who read the grant's nonce books at most this much per granted call.
 */
export const REPORT_CEILING_FACTOR = 10;

/** The grant a report answers, as the run recorded it. */
export interface GrantOnRecord {
  seq: number;
  calls: number;
  /** Absent for grants of runs recorded before nonces: then nothing is checked. */
  nonce?: string;
}

/** A report's figures, cut to its ceiling when above it (`capped` says by how much). */
export interface CheckedReport {
  usage: ReportedUsage;
  reviewUsage?: ReportedUsage;
  capped?: string;
}

/**
 * Why a report of `grant` must be ignored (undefined: it may be booked). A report without the
 * grant's nonce, or with more calls than the grant allowed, cannot come from the child it names.
 */
export function reportProblem(
  grant: GrantOnRecord,
  report: {
    nonce?: string | undefined;
    usage: ReportedUsage;
    reviewUsage?: ReportedUsage | undefined;
    spentByRole?: unknown;
  },
): string | undefined {
  if (grant.nonce === undefined) return undefined;
  if (report.nonce !== grant.nonce)
    return `the report does not echo the nonce of grant ${grant.seq} (${report.nonce === undefined ? 'none given' : 'a different one'})`;
  // An epic's sub-run reports its whole spending so far (cumulative): its calls are checked
  // against everything the epic was granted instead (BudgetController.epicProblem).
  if (report.spentByRole !== undefined) return undefined;
  const calls = report.usage.calls + (report.reviewUsage?.calls ?? 0);
  if (calls > grant.calls)
    return `the report lists ${calls} calls, more calls than its grant ${grant.seq} allowed (${grant.calls})`;
  return undefined;
}

/**
 * The figures a report of a grant with a nonce may book: each part cut (proportionally) to its
 * calls × REPORT_CEILING_FACTOR × the dearest call so far, by dollars and by tokens. Nothing is
 * cut before any call was measured (a first call has no yardstick) or for grants without nonces.
 */
export function cappedReport(
  grant: GrantOnRecord,
  report: { usage: ReportedUsage; reviewUsage?: ReportedUsage | undefined },
  dearest: { usd: number; tokens: number },
): CheckedReport {
  if (grant.nonce === undefined)
    return { usage: report.usage, ...(report.reviewUsage ? { reviewUsage: report.reviewUsage } : {}) };
  const notes: string[] = [];
  const cap = (u: ReportedUsage): ReportedUsage => {
    const calls = Math.max(1, u.calls);
    const usdCeiling = calls * REPORT_CEILING_FACTOR * dearest.usd;
    const tokenCeiling = calls * REPORT_CEILING_FACTOR * dearest.tokens;
    let f = 1;
    if (dearest.usd > 0 && u.usd > usdCeiling) f = Math.min(f, usdCeiling / u.usd);
    if (dearest.tokens > 0 && totalTokens(u) > tokenCeiling) f = Math.min(f, tokenCeiling / totalTokens(u));
    if (f >= 1) return u;
    notes.push(`$${u.usd} and ${totalTokens(u)} tokens for ${u.calls} call(s)`);
    return scaled(u, f);
  };
  const usage = cap(report.usage);
  const reviewUsage = report.reviewUsage ? cap(report.reviewUsage) : undefined;
  return {
    usage,
    ...(reviewUsage ? { reviewUsage } : {}),
    ...(notes.length > 0
      ? {
          capped: `reported ${notes.join(' and ')}, above ${REPORT_CEILING_FACTOR}× the dearest call so far per call: booked up to that now, the rest from the ticket's outcome`,
        }
      : {}),
  };
}

function scaled(u: ReportedUsage, f: number): ReportedUsage {
  const down = (n: number) => Math.floor(n * f);
  return {
    promptTokens: down(u.promptTokens),
    cachedTokens: down(u.cachedTokens),
    completionTokens: down(u.completionTokens),
    usd: Math.floor(u.usd * f * 1e6) / 1e6,
    calls: u.calls,
  } satisfies Usage;
}
