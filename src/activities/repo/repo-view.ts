/**
 * What a repo ticket's worker and reviewer see of the repository (issue 20), read on the worker:
 * the files the ticket names (`changes`, `reads`) from its start tree with its own files laid
 * over, and its dependencies' diffs from their stored patches, each bounded. Nothing else of the
 * repository reaches the prompt, and never the goal or another ticket.
 */
import type { Ticket } from '../../shared/schemas';
import type { RepoTestResult, RepoWork } from '../../shared/repo';
import type { ArtifactRef, TicketOutput } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import type { RepoFileView, RepoPromptView, RepoReviewView } from '../roles/prompts';
import { openSnapshot } from './cache';
import { readTreePath, treeDiff, type RepoTree } from './tree';

/** Characters of one named file a worker prompt shows. */
export const REPO_FILE_CHARS = 12_000;
/** Characters of all named files of one prompt together. */
export const REPO_FILES_TOTAL_CHARS = 60_000;
/** Characters of one dependency's diff. */
export const REPO_DIFF_CHARS = 8_000;
/** Characters of a reviewed ticket's diff. */
export const REPO_REVIEW_DIFF_CHARS = 24_000;

async function fileView(
  store: ArtifactStore,
  tree: RepoTree,
  own: readonly ArtifactRef[],
  p: string,
  budget: { left: number },
): Promise<RepoFileView> {
  try {
    const got = await readTreePath(store, tree, own, p);
    if (got.kind === 'missing') return { path: p, exists: false, text: '', bytes: 0, truncated: false };
    if (got.kind === 'folder')
      return { path: p, exists: true, text: '', bytes: 0, truncated: false, refused: 'a folder' };
    if (got.kind === 'link')
      return { path: p, exists: true, text: '', bytes: 0, truncated: false, refused: 'a symbolic link' };
    const text = got.content.toString('utf8');
    const max = Math.max(0, Math.min(REPO_FILE_CHARS, budget.left));
    budget.left -= Math.min(text.length, max);
    return { path: p, exists: true, text: text.slice(0, max), bytes: got.bytes, truncated: text.length > max };
  } catch (err) {
    return {
      path: p.slice(0, 200),
      exists: false,
      text: '',
      bytes: 0,
      truncated: false,
      refused: (err as Error).message,
    };
  }
}

/** The repo sections of a ticket's worker prompt (see buildWorkerPrompt). */
export async function repoPromptView(
  store: ArtifactStore,
  repo: RepoWork,
  ticket: Ticket,
  own: readonly ArtifactRef[],
  dependencies: readonly TicketOutput[],
): Promise<RepoPromptView> {
  const gitDir = await openSnapshot(store, repo.start);
  const tree = { gitDir, head: repo.start.head };
  const budget = { left: REPO_FILES_TOTAL_CHARS };
  const changes: RepoFileView[] = [];
  for (const p of ticket.changes ?? []) changes.push(await fileView(store, tree, own, p, budget));
  const reads: RepoFileView[] = [];
  for (const p of ticket.reads ?? [])
    if (!ticket.changes?.includes(p)) reads.push(await fileView(store, tree, own, p, budget));
  const deps: RepoPromptView['dependencies'] = [];
  for (const d of dependencies) {
    if (!d.commit) continue;
    const diff = (await store.read(d.commit.patch)).toString('utf8');
    deps.push({
      ticketId: d.ticketId,
      title: d.title,
      diff: diff.slice(0, REPO_DIFF_CHARS),
      truncated: diff.length > REPO_DIFF_CHARS,
    });
  }
  return {
    name: repo.name ?? 'repository',
    ...(repo.testCommand ? { testCommand: repo.testCommand } : {}),
    changes,
    reads,
    dependencies: deps,
  };
}

/** What a repo ticket's review shows: its diff against its start (bounded) and its test result. */
export async function repoReviewView(
  store: ArtifactStore,
  repo: RepoWork,
  own: readonly ArtifactRef[],
  tests?: RepoTestResult,
): Promise<RepoReviewView> {
  const gitDir = await openSnapshot(store, repo.start);
  const { diff, truncated } = await treeDiff(store, { gitDir, head: repo.start.head }, own, REPO_REVIEW_DIFF_CHARS);
  return {
    name: repo.name ?? 'repository',
    diff,
    truncated,
    ...(tests
      ? {
          tests: {
            command: tests.command,
            passed: tests.passed,
            ...(tests.exitCode !== undefined ? { exitCode: tests.exitCode } : {}),
            ...(tests.stopped ? { stopped: tests.stopped } : {}),
            output: tests.output,
          },
        }
      : {}),
  };
}
