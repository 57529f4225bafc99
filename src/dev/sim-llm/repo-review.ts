/**
 * The simulated Boss's review of a repo ticket: it asks for a revision when the repository's
 * tests failed (the agent's last run of a check failed, or a section about the repository's tests
 * in the review prompt says FAIL or a non-zero exit), and accepts when they passed. It does not
 * ask for deliverable files: a repo ticket's result is its change to the repository.
 */
import { failingCheckOf } from './agent';
import { parseReviewPrompt, sectionHeadings } from './prompt-parse';
import { sectionOf } from './repo-prompt';
import type { SimReview } from './review';
import { clip } from './subject';

/** Whether a review prompt is about a repo ticket (its spec names the repository, or it has a repo section). */
export function isRepoReview(user: string): boolean {
  if (!/^# Review of ticket /m.test(user)) return false;
  const spec = parseReviewPrompt(user).spec;
  return (
    /^Repository: .+\.$/m.test(spec) ||
    /^## Repository\b/m.test(user) ||
    /^### Diff against the start of the ticket \(repository /m.test(user)
  );
}

const FAILED =
  /^(?:--- )?FAIL\b|^FAILED\b|exit code [1-9]|\(exit [1-9]\d*\)|\bexit(?:ed)? (?:with )?(?:code |status )?[1-9]\d*\b|\b[1-9]\d* failed\b|passed: false|^STOPPED\b/m;
const NOT_RESULTS =
  /^(Specification|Acceptance criteria|Result of attempt|Decide|Checks the agent ran|Test results that re-opened)/;

/** The failing lines of a section about the repository's tests, when one failed. */
function failingRepoTests(user: string): string | undefined {
  for (const heading of sectionHeadings(user)) {
    if (!/test/i.test(heading) || NOT_RESULTS.test(heading)) continue;
    const block = sectionOf(user, heading) ?? '';
    if (!/:\s*FAILED$/.test(heading) && !FAILED.test(block)) continue;
    const lines = block
      .split('\n')
      .filter((l) => FAILED.test(l) || /Error|expected|want|got/i.test(l))
      .slice(0, 6);
    return `The repository's tests fail (${heading}): ${lines.join(' | ') || 'non-zero exit'}. Fix the change so that they pass.`;
  }
  return undefined;
}

/** The simulated Boss's review of a repo ticket's result. */
export function repoReviewFor(user: string): SimReview {
  const review = parseReviewPrompt(user);
  const problem = failingCheckOf(user) ?? failingRepoTests(user);
  if (!problem)
    return {
      verdict: 'accept',
      feedback: `The repository's tests pass and all ${review.criteria.length} acceptance criteria are met by attempt ${review.attempt}.`,
      criteria: review.criteria.map((criterion) => ({ criterion, met: true })),
    };
  let criteria = review.criteria.map((criterion) => ({ criterion, met: !/pass|test/i.test(criterion) }));
  if (criteria.length > 0 && criteria.every((c) => c.met)) criteria = criteria.map((c) => ({ ...c, met: false }));
  return { verdict: 'revise', feedback: clip(problem, 2000), criteria };
}
