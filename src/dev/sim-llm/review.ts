/**
 * The simulated Boss's reviews and final reports. Reviews check real things in the files
 * shown (files present, deliverables present, the viewport tag of HTML pages) plus the
 * `[sim:revise=N]` directive, so the review loop can be exercised deterministically.
 */
import { failingCheckOf } from './agent';
import { parseFinalPrompt, parseReviewPrompt } from './prompt-parse';
import { clip, deliverablesOf, directivesOf, firstSentence, stripDirectives, subjectOfSpec } from './subject';
import { pageChecks, runCheck } from './website-checks';
import { VIEWPORT_META } from './website-page';

/** A review as the review schema wants it. */
export interface SimReview {
  verdict: 'accept' | 'revise';
  feedback: string;
  criteria: { criterion: string; met: boolean }[];
  /** Dependencies sent back because a check of their output failed (absent: none). */
  reopen?: { ticketId: string; feedback: string }[];
}

/** A final report as the final-report schema wants it. */
export interface SimFinalReport {
  headline: string;
  summary: string;
  followUps: string[];
}

/** The exact feedback given when a page lacks the viewport tag. */
export const VIEWPORT_FEEDBACK = `Add ${VIEWPORT_META} so the page works on phones.`;

interface Problem {
  feedback: string;
  /** Criteria mentioning one of these words are marked unmet. */
  related: RegExp;
}

/**
 * A re-opened ticket's review sees the failing test that re-opened it: each `FAIL <check>` named
 * there is run again on the pages delivered now; one that still fails is the feedback.
 */
function stillFailing(review: ReturnType<typeof parseReviewPrompt>, user: string): Problem | undefined {
  const block = /## Test results that re-opened this ticket[^\n]*\n([\s\S]*?)(?=\n\n## |$)/.exec(user)?.[1];
  if (!block) return undefined;
  const pages = review.files.filter((f) => f.path.endsWith('.html'));
  const checks = pageChecks(subjectOfSpec(review.spec));
  for (const name of [...block.matchAll(/FAIL ([^;|\n]+?)(?=[.;|]|\n|$)/g)].map((m) => (m[1] ?? '').trim())) {
    const check = checks.find((c) => c.name === name);
    if (check && pages.some((p) => !runCheck(check, p.text)))
      return { feedback: `The test that re-opened this ticket still fails: ${name}.`, related: /./ };
  }
  return undefined;
}

function findProblem(review: ReturnType<typeof parseReviewPrompt>, user: string): Problem | undefined {
  const failing = failingCheckOf(user);
  if (failing) return { feedback: failing, related: /test|check|work/i };
  const regressed = stillFailing(review, user);
  if (regressed) return regressed;
  const wanted = deliverablesOf(review.spec);
  if (review.files.length === 0) {
    const list = wanted.length > 0 ? `: ${wanted.join(', ')}` : '';
    return { feedback: `No files were delivered: deliver the files the specification asks for${list}.`, related: /./ };
  }
  const shown = new Set(review.files.map((f) => f.path));
  const missing = wanted.filter((p) => !shown.has(p));
  if (missing.length > 0) {
    const re = new RegExp(missing.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
    return { feedback: `Deliver the missing file(s) named in the specification: ${missing.join(', ')}.`, related: re };
  }
  const page = review.files.find((f) => f.path.endsWith('.html') && !/<meta[^>]*name=["']viewport["']/i.test(f.text));
  if (page) return { feedback: VIEWPORT_FEEDBACK, related: /viewport|phone|mobile|responsive|desktop|screen/i };
  const revise = directivesOf(review.spec).revise;
  if (revise !== undefined && review.attempt <= revise) {
    return {
      feedback: `Revision ${review.attempt} of ${revise} requested by the review directive [sim:revise=${revise}]: re-check every acceptance criterion and deliver the complete files again.`,
      related: /$^/,
    };
  }
  return undefined;
}

/**
 * A failing check of a ticket that checks its dependencies' output (a Tester running the test of
 * the Coder's page) is the fault of the dependency that delivered the page: it is re-opened with
 * the failing lines of the run as feedback. Undefined when no check fails or no dependency has a page.
 */
function reopenOf(review: ReturnType<typeof parseReviewPrompt>, user: string): SimReview['reopen'] {
  if (!failingCheckOf(user)) return undefined;
  const block = /## Tickets this one depends on[^\n]*\n((?:- .*\n?)*)/.exec(user)?.[1] ?? '';
  const owner = block
    .split('\n')
    .map((l) => /^- (T\d+) \([^)]*\): .* — files: (.*)$/.exec(l))
    .find((m) => m && /\.html\b/.test(m[2] ?? ''));
  if (!owner?.[1]) return undefined;
  const page = (owner[2] ?? '').split(', ').find((f) => f.endsWith('.html')) ?? 'the page';
  const results = /Results: (.*?)\. (?=[A-Z]|$)/.exec(review.summary)?.[1] ?? '';
  const failing = results.split(' | ').filter((r) => /FAIL|exit code [1-9]|PROBLEMS|ERROR/.test(r));
  const evidence = failing.length > 0 ? failing.join(' | ') : (failingCheckOf(user) ?? 'a check failed');
  return [
    {
      ticketId: owner[1],
      feedback: clip(`The tests of ${page} failed: ${evidence}. Fix ${page} so that every check passes.`, 2000),
    },
  ];
}

/** The simulated Boss's review of one ticket result. */
export function reviewFor(user: string): SimReview {
  const review = parseReviewPrompt(user);
  const reopen = reopenOf(review, user);
  if (reopen) {
    return {
      verdict: 'revise',
      feedback: clip(
        `The checks fail because of ${reopen.map((r) => r.ticketId).join(', ')}: ${reopen[0]?.feedback ?? ''}`,
        2000,
      ),
      criteria: review.criteria.map((criterion) => ({ criterion, met: !/pass|result/i.test(criterion) })),
      reopen,
    };
  }
  const problem = findProblem(review, user);
  if (!problem) {
    return {
      verdict: 'accept',
      feedback: `All ${review.criteria.length} acceptance criteria are met by attempt ${review.attempt}.`,
      criteria: review.criteria.map((criterion) => ({ criterion, met: true })),
    };
  }
  let criteria = review.criteria.map((criterion) => ({ criterion, met: !problem.related.test(criterion) }));
  if (criteria.length > 0 && criteria.every((c) => c.met)) criteria = criteria.map((c) => ({ ...c, met: false }));
  return { verdict: 'revise', feedback: clip(problem.feedback, 2000), criteria };
}

/** The simulated Boss's final report on a run. */
export function finalReportFor(user: string): SimFinalReport {
  const report = parseFinalPrompt(user);
  const goal = firstSentence(stripDirectives(report.goal), 200) || 'the goal';
  const total = report.tickets.length;
  const accepted = report.tickets.filter((t) => t.state === 'accepted');
  const open = report.tickets.filter((t) => t.state !== 'accepted');
  const headline =
    total > 0 && open.length === 0
      ? `Delivered: ${goal}`
      : `Partly delivered (${accepted.length} of ${total} tickets accepted): ${goal}`;
  const lines = report.tickets.map(
    (t) =>
      `${t.id} ${t.title} (${t.role}): ${t.state}${t.summary ? ` — ${clip(t.summary, 200).replace(/[.!]+$/, '')}` : ''}.`,
  );
  const files =
    report.files.length > 0
      ? `Files produced (${report.files.length}): ${clip(report.files.join(', '), 1200)}.`
      : 'No files were produced.';
  const summary = [
    `Goal: ${clip(stripDirectives(report.goal), 600)}`,
    report.planSummary ? `Plan: ${clip(report.planSummary, 400)}` : '',
    `${accepted.length} of ${total} tickets were accepted.`,
    ...lines.slice(0, 30),
    files,
  ]
    .filter(Boolean)
    .join('\n');
  const followUps = open
    .slice(0, 20)
    .map((t) =>
      clip(
        `${t.id} ${t.title} (${t.role}) ended ${t.state}: finish it or re-run it with clearer acceptance criteria.`,
        500,
      ),
    );
  return { headline: clip(headline, 300), summary: clip(summary, 4000), followUps };
}
