/**
 * Repo runs (issue 20): before the final report the repository's own tests run on the integrated
 * branch. When they fail, the first failing commit of the series is found (a binary search over
 * the commits) and its ticket is re-opened with the output, within --max-reopens; past that the
 * run goes on and ends `partial`, never `completed`, with the failing output in its report.
 */
import type { RunState } from './run-state';
import type { RepoBranch } from './repo-branch';

/**
 * Tests the branch; returns the ticket to run again and its feedback (the scheduler's retry
 * feedback), or undefined when the run goes on to its report.
 */
export async function verifyBranch(
  state: RunState,
  maxReopens: number,
  publish: () => void,
): Promise<[string, string] | undefined> {
  const b = state.branch;
  if (!b?.input.testCommand || b.commits.length === 0) return undefined;
  const tests = await b.test(b.head, `${b.input.branch} at ${b.head.head.slice(0, 12)}`);
  if (!tests) return undefined;
  b.tests = tests;
  state.version++;
  publish();
  if (tests.passed) return undefined;
  const culprit = await b.firstFailing();
  if (!culprit) {
    state.book.log({
      by: 'maestro',
      action: 'repo-tests',
      comment: `the repository's tests fail on ${b.input.branch} and on its base too: no ticket is re-opened`,
    });
    return undefined;
  }
  const id = culprit.commit.ticketId;
  const n = state.reopenedCount(id);
  if (state.stateOf(id) !== 'accepted' || n >= maxReopens) {
    state.book.log({
      by: 'maestro',
      action: 'repo-tests',
      ticketId: id,
      comment: `the repository's tests first fail at ${id}'s commit ${culprit.commit.commit.slice(0, 12)}; ${id} is ${state.stateOf(id)} and was re-opened ${n} time(s) (--max-reopens ${maxReopens}): the run ends partial`,
    });
    return undefined;
  }
  const output = tail(culprit.result.output, 3000);
  const evidence = `The repository's tests \`${culprit.result.command}\` fail on the branch from your commit ${culprit.commit.commit.slice(0, 12)} on (exit code ${culprit.result.exitCode ?? 'none'}):\n${output}`;
  const note = `re-opened (${n + 1} of ${maxReopens}): the repository's tests fail from its commit ${culprit.commit.commit.slice(0, 12)} on`;
  state.reopen(id, note, evidence);
  state.book.log({ by: 'maestro', action: 'reopen', ticketId: id, comment: note });
  publish();
  return [
    id,
    `${evidence}\n\nYou work on the branch as it is now (your previous commit included): fix it so the tests pass (re-open ${n + 1} of at most ${maxReopens}).`,
  ];
}

/** The branch, its diffstat and its test result, as the final gate and the report show them. */
export function branchSection(b: RepoBranch): string {
  const t = b.tests;
  const tests = !b.input.testCommand
    ? 'Tests: no test command was found for this repository.'
    : !t
      ? `Tests: \`${b.input.testCommand}\` did not run on the branch.`
      : t.passed
        ? `Tests: \`${t.command}\` passed on ${t.commit?.slice(0, 12) ?? 'the branch'} in ${Math.round(t.durationMs / 1000)} s.`
        : `Tests: \`${t.command}\` FAILED on ${t.commit?.slice(0, 12) ?? 'the branch'} (exit code ${t.exitCode ?? 'none'}${t.stopped ? `, ${t.stopped}` : ''}):\n${tail(t.output, 1500)}`;
  const commits = b.commits.length;
  return `Branch ${b.input.branch}: ${commits} commit${commits === 1 ? '' : 's'} on ${b.input.snapshot.base.slice(0, 12)}${commits > 0 ? `\n${b.diffstat(2500)}` : ''}\n${tests}`;
}

function tail(text: string, max: number): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}
