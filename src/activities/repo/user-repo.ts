/**
 * The person's own repository, as `maestro run --repo` and `maestro result --repo` see it: found
 * and checked once, with an environment that keeps its configuration from running anything. The
 * one git runner (git.ts) already ignores hooks and fsmonitor; a repository's `.git/config` can
 * still name filter, diff and merge drivers (commands) that `.gitattributes` switches on, and a
 * `git status` runs a clean filter on every file whose stat changed. Every driver the
 * configuration names is therefore set to nothing for our calls (GIT_CONFIG_KEY_n, which has no
 * quoting ambiguity, unlike `-c`).
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { git, GitError, gitText, type GitOptions } from './git';

/** A repository that cannot be used as asked; the message says what to fix. */
export class RepoInputError extends Error {
  override name = 'RepoInputError';
}

/** The person's repository, opened for reading. */
export interface UserRepo {
  /** Its work tree's top folder (absolute). */
  top: string;
  /** Its folder name, for people. */
  name: string;
  /** The git dir shared by all its worktrees (objects and refs live here). */
  commonDir: string;
  /** Environment for every git call on it: the configured drivers neutralised. */
  env: Record<string, string>;
  /** The person's own `safe.directory` list (their system and global git configuration). */
  safeDirectories: string[];
}

/** Configuration keys that name commands a driver runs (`filter.<name>.clean` and the like). */
const DRIVER_KEY = /^(filter\..+\.(clean|smudge|process)|diff\..+\.(textconv|command)|merge\..+\.driver)$/;

/** Runs git on the person's repository with its drivers neutralised. */
export function userGit(repo: UserRepo, args: readonly string[], opts: GitOptions = {}) {
  return git(args, {
    cwd: repo.top,
    safeDirectories: repo.safeDirectories,
    ...opts,
    env: { ...repo.env, ...opts.env },
  });
}

/**
 * The `safe.directory` values of the person's system and global git configuration (the only
 * places git reads them from; a repository's own configuration cannot add one).
 */
function personSafeDirectories(): Promise<string[]> {
  const read = (scope: string) =>
    new Promise<string[]>((resolve) => {
      execFile('git', ['config', scope, '--get-all', 'safe.directory'], { encoding: 'utf8' }, (err, out) =>
        resolve(err ? [] : out.split('\n').filter((l) => l !== '')),
      );
    });
  return Promise.all([read('--system'), read('--global')]).then(([a, b]) => [...a, ...b]);
}

/**
 * Opens the repository at (or above) `repoPath`; throws RepoInputError when it is no folder, no
 * git repository, or a bare one (there is no checkout to leave untouched and nothing to run on).
 */
export async function openUserRepo(repoPath: string): Promise<UserRepo> {
  const abs = path.resolve(repoPath);
  const st = await stat(abs).catch(() => undefined);
  if (!st?.isDirectory())
    throw new RepoInputError(`--repo ${repoPath}: no such folder; give the path of a git checkout.`);
  const safeDirectories = await personSafeDirectories();
  let bare: string;
  try {
    bare = await gitText(['rev-parse', '--is-bare-repository'], { cwd: abs, safeDirectories });
  } catch (err) {
    if (err instanceof GitError && /dubious ownership/i.test(err.stderr))
      throw new RepoInputError(
        `--repo ${repoPath}: its repository is owned by someone else, so git does not trust it (${err.stderr.trim().split('\n')[0]}); if it is yours, add it with \`git config --global --add safe.directory <path>\`.`,
      );
    if (err instanceof GitError && /not a git repository/i.test(err.stderr))
      throw new RepoInputError(
        `--repo ${repoPath}: not a git repository; give the folder of a git checkout (or run \`git init\` and commit first).`,
      );
    throw err;
  }
  if (bare === 'true')
    throw new RepoInputError(
      `--repo ${repoPath}: is a bare repository; give a checkout of it (e.g. \`git worktree add\` or \`git clone\`), so the branch lands where you review it.`,
    );
  // One call per path, only the final newline cut: a folder name may hold newlines or end in
  // spaces (splitting or trimming the answer named a sibling folder's repository).
  const onePath = async (flag: string) =>
    (await git(['rev-parse', flag], { cwd: abs, safeDirectories })).stdout.toString('utf8').replace(/\n$/, '');
  let top: string;
  let common: string;
  try {
    top = await onePath('--show-toplevel');
    common = await onePath('--git-common-dir');
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    throw new RepoInputError(
      `--repo ${repoPath}: is not inside a checkout (${err.message}); give the checkout's folder.`,
    );
  }
  if (!top || !common) throw new RepoInputError(`--repo ${repoPath}: git could not tell its top folder.`);
  const commonDir = path.resolve(abs, common);
  const env = await driverOverrides(top, safeDirectories);
  return { top, name: path.basename(top), commonDir, env, safeDirectories };
}

/** GIT_CONFIG_COUNT/KEY/VALUE entries that set every configured driver command to nothing. */
async function driverOverrides(top: string, safeDirectories: string[]): Promise<Record<string, string>> {
  const out = await git(['config', '-z', '--name-only', '--get-regexp', '^(filter|diff|merge)\\.'], {
    cwd: top,
    safeDirectories,
    okCodes: [1],
  });
  const keys = [
    ...new Set(
      out.stdout
        .toString('utf8')
        .split('\0')
        .filter((k) => DRIVER_KEY.test(k)),
    ),
  ];
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(keys.length) };
  keys.forEach((k, i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = '';
  });
  return env;
}
