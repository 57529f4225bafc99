/**
 * Delivery of a repo run's branch into the person's repository (issue 20): the run's series
 * bundle (base..head) is fetched as objects only, then the branch is created with a ref update
 * that fails if the branch appeared meanwhile. The working tree, index, HEAD, stash and other
 * branches are never touched, no FETCH_HEAD is written, and a branch of the same name that points
 * elsewhere is never overwritten.
 */
import { COMMIT_ID } from '../../shared/repo';
import { git, GitError } from './git';
import { openUserRepo, RepoInputError, userGit, type UserRepo } from './user-repo';

const ZERO = '0'.repeat(40);

/** What the branch delivery needs of RunResult.repo. */
export interface SeriesToDeliver {
  branch: string;
  base: string;
  head: string;
}

/** How a delivery went: the branch was made, or it was there already at the same commit. */
export type DeliveryOutcome = 'created' | 'exists';

/** The commit `ref` points at in the repository, or undefined. */
async function commitOf(repo: UserRepo, ref: string): Promise<string | undefined> {
  const out = await userGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
    okCodes: [1, 128],
  });
  const sha = out.stdout.toString('utf8').trim();
  return out.code === 0 && sha ? sha : undefined;
}

/** Refuses a branch name git would not accept, and says which. */
async function checkBranch(branch: string): Promise<string> {
  const ref = `refs/heads/${branch}`;
  const ok = await git(['check-ref-format', ref], { okCodes: [1] });
  if (ok.code !== 0 || branch.startsWith('-')) throw new RepoInputError(`"${branch}" is not a valid branch name.`);
  return ref;
}

/**
 * Fetches the series bundle `bundleFile` into the repository at `repoPath` as branch
 * `series.branch` at `series.head`. Throws RepoInputError when the branch exists at another
 * commit, the repository lacks the base, or the bundle does not hold the head.
 */
export async function deliverSeries(
  repoPath: string,
  bundleFile: string,
  series: SeriesToDeliver,
): Promise<DeliveryOutcome> {
  if (!COMMIT_ID.test(series.base) || !COMMIT_ID.test(series.head))
    throw new Error(`the run's branch is not made of commit ids (base ${series.base}, head ${series.head})`);
  const repo = await openUserRepo(repoPath);
  const ref = await checkBranch(series.branch);
  const existing = await commitOf(repo, ref);
  if (existing === series.head) return 'exists';
  if (existing)
    throw new RepoInputError(
      `branch ${series.branch} already exists in ${repo.top} at ${existing.slice(0, 12)}, not at the run's ${series.head.slice(0, 12)}; it was not changed. Rename it (\`git branch -m ${series.branch} <other>\`) and fetch again with \`maestro result <runId> --repo ${repo.top}\`.`,
    );
  if (!(await commitOf(repo, series.base)))
    throw new RepoInputError(
      `${repo.top} does not have the run's base commit ${series.base.slice(0, 12)}; give the repository the run started from.`,
    );
  const heads = (await git(['bundle', 'list-heads', bundleFile], { cwd: repo.top, env: repo.env })).stdout
    .toString('utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([sha, name]) => sha === series.head && name);
  const source = heads[0]?.[1];
  if (!source) throw new Error(`the run's series bundle does not hold its head ${series.head.slice(0, 12)}`);
  // `bundle unbundle`, not `fetch`: a fetch of the bundle's path still goes through the
  // repository's `url.<x>.insteadOf` (which can turn the path into an `ext::` command or ssh
  // transport the repository allows) and runs its `core.alternateRefsCommand` when it borrows
  // objects. Unbundling only indexes the pack (after checking the prerequisites are present) and
  // writes no ref, FETCH_HEAD or tag.
  try {
    await userGit(repo, ['bundle', 'unbundle', bundleFile]);
  } catch (err) {
    if (err instanceof GitError) throw new Error(`could not fetch the run's commits into ${repo.top}: ${err.message}`);
    throw err;
  }
  if (!(await commitOf(repo, series.head)))
    throw new Error(`the run's series bundle did not give its head ${series.head.slice(0, 12)}`);
  const ancestor = await userGit(repo, ['merge-base', '--is-ancestor', series.base, series.head], { okCodes: [1] });
  if (ancestor.code !== 0)
    throw new Error(`the run's head ${series.head.slice(0, 12)} does not descend from its base; nothing was changed.`);
  try {
    await userGit(repo, ['update-ref', '-m', `maestro: ${series.branch}`, ref, series.head, ZERO]);
  } catch (err) {
    // Made by someone else between our check and now: fine when it is the same commit.
    if ((await commitOf(repo, ref)) === series.head) return 'exists';
    throw new RepoInputError(
      `branch ${series.branch} appeared in ${repo.top} while the run's commits were fetched; it was not changed (${(err as Error).message}).`,
    );
  }
  return 'created';
}
