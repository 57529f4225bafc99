/**
 * The client side of `maestro run --repo` (issue 20): before the run, pack the base commit into
 * the artifact store, build the repository map and choose the test command; after it, fetch the
 * run's branch into the person's repository and say how to review it; and `maestro result
 * --patch` prints the series. The person's checkout is only read, except for the one new branch.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { deliverSeries } from '../activities/repo/deliver';
import { dirtyNotice, packBase, resolveBase } from '../activities/repo/pack';
import { buildRepoMap } from '../activities/repo/repo-map';
import { chooseTestCommand } from '../activities/repo/test-command';
import { openUserRepo, RepoInputError, userGit } from '../activities/repo/user-repo';
import type { MaestroConfig } from '../config';
import { terminalBlock, terminalLine } from '../shared/model-text';
import type { RepoInput, RepoResult } from '../shared/repo';
import { REPO_ROLES, roleInfoOf } from '../shared/roles';
import type { RoleInfo } from '../shared/types';
import { artifactRoot } from '../workers/activity-deps';
import { InputError } from './errors';
import { fetchMissingArtifacts } from './fetch-artifacts';

/** The branch a run's result is delivered on. */
export function runBranch(runId: string): string {
  return `maestro/${runId}`;
}

/** What a repo run starts with. */
export interface PreparedRepoRun {
  repo: RepoInput;
  /** The repo roles when the configured roles have no tools (else undefined: the configured ones). */
  roles?: RoleInfo[];
  /** The repository's top folder. */
  top: string;
}

/**
 * Packs the base, builds the map and chooses the test command for a run `runId` on the
 * repository at `repoPath`; logs the base commit, the dirty notice and the test command.
 * Throws InputError for anything the person must fix (no repository, unknown base...).
 */
export async function prepareRepoRun(opts: {
  config: MaestroConfig;
  runId: string;
  repoPath: string;
  base?: string;
  testCommand?: string;
  log: (line: string) => void;
}): Promise<PreparedRepoRun> {
  const { config, runId, log } = opts;
  const baseRef = opts.base ?? 'HEAD';
  const store = new FsArtifactStore(artifactRoot(config.home));
  try {
    const packed = await packBase(opts.repoPath, baseRef, store);
    const branch = runBranch(runId);
    // The branch must be creatable at the end: not there, and no ref in its way (a branch
    // `maestro` makes `maestro/<runId>` impossible, as does a `maestro/<runId>/x`).
    const ref = `refs/heads/${branch}`;
    const near = await userGit(packed.repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/maestro']);
    const clash = near.stdout
      .toString('utf8')
      .split('\n')
      .find((r) => r !== '' && (r === ref || ref.startsWith(`${r}/`) || r.startsWith(`${ref}/`)));
    if (clash)
      throw new RepoInputError(
        clash === ref
          ? `branch ${branch} already exists in ${packed.top}; choose another --run-id.`
          : `branch ${branch} cannot be made in ${packed.top}: ${clash.replace('refs/heads/', 'branch ')} is in its way; rename it or choose another --run-id.`,
      );
    const testCommand = chooseTestCommand(opts.testCommand, config.repo?.testCommand);
    const map = await buildRepoMap((a, o) => userGit(packed.repo, a, o), packed.snapshot.base, packed.name, {
      ...(testCommand ? { testCommand } : {}),
      ...(config.repo?.mapTokens ? { maxTokens: config.repo.mapTokens } : {}),
    });
    const test = testCommand ?? map.detected.test;
    log(
      `Repository ${terminalLine(packed.top)}: base ${terminalLine(baseRef)} = ${packed.snapshot.base} (${map.files} files; map ${map.tokens} tokens).`,
    );
    const notice = dirtyNotice(packed.dirty);
    if (notice) log(terminalLine(notice));
    log(
      test
        ? `Test command: ${terminalLine(test)}${testCommand ? '' : ' (detected; override with --test-command)'}.`
        : 'Test command: none detected; give one with --test-command or repo.testCommand in maestro.config.json.',
    );
    const roles = repoRunRoles(config);
    return {
      repo: {
        name: packed.name,
        baseRef,
        snapshot: packed.snapshot,
        map: map.text,
        ...(test ? { testCommand: test } : {}),
        branch,
      },
      ...(roles ? { roles } : {}),
      top: packed.top,
    };
  } catch (err) {
    if (err instanceof RepoInputError || (err instanceof Error && err.message.startsWith('--test-command')))
      throw new InputError(err.message);
    throw err;
  }
}

/**
 * The team a repo run is given instead of the configured one (undefined: the configured team).
 * A configured team whose roles work on files themselves, with tools or with a coding-agent CLI
 * ("executor"), is kept; otherwise REPO_ROLES, whose Coder and Tester work with tools.
 */
export function repoRunRoles(config: Pick<MaestroConfig, 'roles' | 'llm'>): RoleInfo[] | undefined {
  const ownTeam = config.roles.some((r) => (r.agent?.tools.length ?? 0) > 0 || r.executor !== undefined);
  return ownTeam ? undefined : REPO_ROLES.map((r) => roleInfoOf({ ...r, model: config.llm.workerModel }));
}

/**
 * Checks `--repo`/`--base` before anything starts (no server, no worker): the repository exists,
 * is a checkout with commits, and has the base. Throws InputError saying what to fix.
 */
export async function checkRepoArgs(repoPath: string, base = 'HEAD'): Promise<void> {
  try {
    await resolveBase(await openUserRepo(repoPath), base);
  } catch (err) {
    if (err instanceof RepoInputError) throw new InputError(err.message);
    throw err;
  }
}

/** The commands that review a delivered branch. */
export function reviewLines(base: string, branch: string): string[] {
  const b = base.slice(0, 12);
  return [`  git log --format=full ${b}..${branch}`, `  git diff ${b}...${branch}`];
}

/**
 * Fetches run `runId`'s branch into the repository at `repoPath` (the series bundle comes from
 * the run's worker when this machine's store lacks it) and prints how to review it. Returns
 * false when there was nothing to deliver.
 */
export async function deliverRunBranch(opts: {
  client: Client;
  home: string;
  runId: string;
  repo: RepoResult | undefined;
  repoPath: string;
  log: (line: string) => void;
}): Promise<boolean> {
  const { repo, runId, log } = opts;
  if (!repo) {
    log(`Run ${runId} did not work on a repository: there is no branch to fetch.`);
    return false;
  }
  if (!repo.series || repo.head === repo.base || repo.commits.length === 0) {
    log(`Run ${runId} committed nothing on ${repo.branch}: no branch was made.`);
    return false;
  }
  await fetchMissingArtifacts({ client: opts.client, home: opts.home, runId, artifacts: [repo.series], log });
  const store = new FsArtifactStore(artifactRoot(opts.home));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'maestro-series-'));
  try {
    const file = path.join(dir, 'series.bundle');
    await writeFile(file, await store.read(repo.series));
    const outcome = await deliverSeries(opts.repoPath, file, repo);
    console.log(
      `${outcome === 'created' ? 'Branch' : 'Branch (already there)'} ${repo.branch}: ${repo.commits.length} commit(s) on ${repo.base.slice(0, 12)}, head ${repo.head.slice(0, 12)}. Review it with:`,
    );
    for (const l of reviewLines(repo.base, repo.branch)) console.log(l);
    // A delivered branch is not a passing one: say so beside the review commands.
    if (repo.tests && !repo.tests.passed)
      console.log(
        `Its tests FAILED on ${repo.head.slice(0, 12)}: ${terminalLine(repo.tests.command)} ${repo.tests.stopped ? `(stopped: ${terminalLine(repo.tests.stopped)})` : `(exit code ${repo.tests.exitCode ?? 'none'})`}; fix them before merging it.`,
      );
    return true;
  } catch (err) {
    if (err instanceof RepoInputError) throw new InputError(err.message);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The series as `git format-patch` text, one ticket's patch after the other in merge order:
 * what `maestro result <runId> --patch` prints (`| git am` applies it). Escape sequences are shown
 * escaped when the output is a terminal, and left as they are when it is piped.
 */
export async function seriesText(opts: {
  client: Client;
  home: string;
  runId: string;
  repo: RepoResult | undefined;
  log: (line: string) => void;
  tty: boolean;
}): Promise<string> {
  const { repo } = opts;
  if (!repo) throw new InputError(`Run ${opts.runId} did not work on a repository: it has no patches.`);
  if (repo.commits.length === 0) return '';
  const refs = repo.commits.map((c) => c.patch);
  await fetchMissingArtifacts({
    client: opts.client,
    home: opts.home,
    runId: opts.runId,
    artifacts: refs,
    log: opts.log,
  });
  const store = new FsArtifactStore(artifactRoot(opts.home));
  const parts: string[] = [];
  for (const ref of refs) parts.push((await store.read(ref)).toString('utf8'));
  const text = parts.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
  return opts.tty ? terminalBlock(text) : text;
}
