/**
 * The space of a coding-agent CLI on a repo ticket (issue 21 on issue 20's runs): the ticket's
 * git tree, i.e. the run's start snapshot with the ticket's own files (a revision's previous
 * attempt) laid over it, rebuilt from the store every attempt, checked out under the attempt
 * folder's `space/`. The CLI finds a real git repository there (its own `.git`, one commit of the
 * tree as it starts), so `git status`/`git diff` show it its work and Codex needs no flag for it.
 * What it changed is read back with `treeChanges` against Maestro's own scratch index, outside
 * the sandbox: the `.git` the CLI sees is never trusted or read, and links, `.git` paths,
 * deletions, files over a folder or link and huge files are left out and named, as for every
 * repo ticket.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RepoWork } from '../../shared/repo';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { openSnapshot } from '../repo/cache';
import { git } from '../repo/git';
import { checkoutTree, treeChanges, treeSize, type RepoTree } from '../repo/tree';
import type { WorkspaceQuota } from '../tools/workspace';
import { prepareAttemptFolder, type AttemptFolder } from './space';

const run = promisify(execFile);

/** Changed files kept per attempt, and the largest one (as the executor's other spaces). */
const MAX_KEPT_FILES = 50;
const MAX_KEPT_BYTES = 1_000_000;

/** Fixed date of the start commit in the CLI's repository (the same tree gives the same commit). */
const START_DATE = '2000-01-01T00:00:00Z';

/** A repo ticket's attempt folder: the folder, the tree, what changed, and its clean-up. */
export interface RepoAttemptFolder {
  folder: AttemptFolder;
  tree: RepoTree;
  /** The files the CLI created or changed (against start plus own files), stored; and what was left out, with why. */
  changes: () => Promise<{ written: ArtifactRef[]; skipped: string[] }>;
  dispose: () => Promise<void>;
}

/**
 * Builds the attempt folder of a repo ticket: an empty control folder and the ticket's tree under
 * `space/` (the folder's quota grows by the tree's size twice: the files and the CLI's `.git`).
 * The index and objects `changes` compares with stay under `parent`, outside the folder.
 */
export async function prepareRepoAttemptFolder(
  store: ArtifactStore,
  repo: RepoWork,
  own: readonly ArtifactRef[],
  parent: string | undefined,
  quota: WorkspaceQuota,
  ticketId: string,
): Promise<RepoAttemptFolder> {
  const tree: RepoTree = { gitDir: await openSnapshot(store, repo.start), head: repo.start.head };
  const size = await treeSize(tree, own);
  const folder = await prepareAttemptFolder(store, { dependencies: [], own: [] }, parent, {
    bytes: quota.bytes + 2 * size.bytes,
    entries: quota.entries + 2 * size.entries + 1000,
  });
  let checkout: Awaited<ReturnType<typeof checkoutTree>> | undefined;
  try {
    checkout = await checkoutTree(store, tree, own, folder.host.space, parent ?? os.tmpdir());
    await initCliRepository(folder.host.space, repo, own, ticketId);
    for (const r of own) folder.before.set(r.path, r);
  } catch (err) {
    await checkout?.dispose();
    await folder.ws.dispose();
    throw err;
  }
  const gitEnv = checkout.gitEnv;
  const done = checkout.dispose;
  return {
    folder,
    tree,
    changes: () =>
      treeChanges(store, { dir: folder.host.space, gitEnv, tree, dispose: () => Promise.resolve() }, own, {
        maxFiles: MAX_KEPT_FILES,
        maxBytes: MAX_KEPT_BYTES,
      }),
    dispose: async () => {
      await done();
      await folder.ws.dispose();
    },
  };
}

/**
 * Makes the checked-out tree a git repository of its own for the CLI: `.git` with one commit of
 * the files as the attempt starts (no hooks, no templates), writable by the sandbox's user.
 */
async function initCliRepository(
  dir: string,
  repo: RepoWork,
  own: readonly ArtifactRef[],
  ticketId: string,
): Promise<void> {
  const dotGit = path.join(dir, '.git');
  await git(['init', '-q', '--template=', '--initial-branch=maestro-ticket', dir]);
  const opts = {
    gitDir: dotGit,
    workTree: dir,
    env: { GIT_AUTHOR_DATE: START_DATE, GIT_COMMITTER_DATE: START_DATE },
  };
  // Every file there is the tree's or the ticket's own: tracked, even where .gitignore matches it.
  await git(['add', '-A', '-f'], opts);
  const name = repo.name ?? 'the repository';
  const previous =
    own.length > 0
      ? `\n\nWith the previous attempt's files laid over it: ${own
          .slice(0, 20)
          .map((r) => r.path)
          .join(', ')}${own.length > 20 ? ', ...' : ''}`
      : '';
  await git(
    [
      'commit',
      '-q',
      '--no-verify',
      '--allow-empty',
      '-m',
      `Start of ticket ${ticketId}: ${name} at ${repo.start.head}${previous}`,
    ],
    opts,
  );
  await run('chmod', ['-R', 'a+rwX', dotGit]);
}
