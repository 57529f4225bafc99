/**
 * The merge queue's one step (issue 20): a ticket's files, laid over the tree it started on, become
 * one commit on the run branch. Everything is built in a bare repository with a temporary index
 * (no checkout, no work tree), with commit dates fixed by the workflow, so a merge retried after a
 * crash makes the very same commit ids: no duplicated commit, whatever happened before.
 */
import { terminalBlock, terminalLine } from '../../shared/model-text';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../shared/errors';
import { unsafeRepoPath } from '../../shared/repo-paths';
import { COMMIT_ID, type MergeTicketInput, type MergeTicketOutput, type RepoSnapshot } from '../../shared/repo';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { withActivityContext } from '../context';
import { openSnapshot, storeSeries } from './cache';
import { git, gitText } from './git';
import { checkWritable } from './tree';
import { WorkspacePathError } from '../tools/workspace';

export { unsafeRepoPath };

/** Most characters of conflicting hunks returned to the workflow (they become the ticket's feedback). */
export const MAX_HUNK_CHARS = 6000;
/**
 * Most characters of a commit's diffstat kept in its RepoCommit. The run carries every commit
 * across continue-as-new (300 commits of a 100-ticket run stay far below the 2 MB payload limit);
 * the whole diff is in the commit's patch in the store.
 */
export const MAX_DIFFSTAT_CHARS = 1500;
/** Lines of context kept around each conflict region. */
const HUNK_CONTEXT = 3;

/** What a merge needs beside its input: the store and the two repository operations of cache.ts. */
export interface MergeDeps {
  store: ArtifactStore;
  /** A git dir holding `snapshot.head` (cache.ts openSnapshot). */
  open: (snapshot: RepoSnapshot) => Promise<string>;
  /** A bundle of `base..head` in the store (cache.ts storeSeries). */
  storeSeries: (gitDir: string, base: string, head: string, branch: string) => Promise<ArtifactRef>;
}

/** A bad merge input: never retried, the message says what is wrong. */
function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.BadInput, message, nonRetryable: true });
}

/** Checks the shape of a snapshot from a workflow input (a hostile run input may forge one). */
function checkSnapshot(what: string, s: RepoSnapshot): void {
  for (const k of ['base', 'head'] as const) {
    if (typeof s?.[k] !== 'string' || !COMMIT_ID.test(s[k]))
      throw badInput(`the ${what} snapshot's ${k} is not a 40-hex-digit commit id: ${JSON.stringify(s?.[k])}`);
  }
  if (!s.bundle?.sha256) throw badInput(`the ${what} snapshot has no base bundle`);
  if (s.head !== s.base && !s.series)
    throw badInput(`the ${what} snapshot's head is not its base but it has no series bundle`);
}

/**
 * The ticket's commit message: title, summary, trailers (one line each, no stray trailer lines).
 * Title and summary are the model's text and land in the user's `git log`: escape sequences,
 * bidi and zero-width characters are written escaped (`\x1b`, `\u202e`), as on Maestro's terminal.
 */
export function commitMessage(input: Pick<MergeTicketInput, 'runId' | 'ticket'>): string {
  const title = terminalLine(input.ticket.title).replace(/\s+/g, ' ').trim().slice(0, 200) || input.ticket.id;
  const summary = terminalBlock(input.ticket.summary.replace(/\r/g, '')).trim().slice(0, 8000);
  const trailer = (v: string) => v.replace(/\s+/g, ' ').trim();
  return (
    `${title}\n\n${summary ? `${summary}\n\n` : ''}` +
    `Maestro-Run: ${trailer(input.runId)}\nMaestro-Ticket: ${trailer(input.ticket.id)}\nMaestro-Role: ${trailer(input.ticket.role)}\n`
  );
}

/** `GIT_*_DATE` from the workflow's fixed time, in git's raw format (no parsing ambiguity). */
function commitDates(at: string): Record<string, string> {
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) throw badInput(`the merge time is not a date: ${JSON.stringify(at)}`);
  const raw = `@${Math.floor(ms / 1000)} +0000`;
  return { GIT_AUTHOR_DATE: raw, GIT_COMMITTER_DATE: raw };
}

/** Merges one accepted ticket onto the run branch (see the file comment). */
export async function mergeTicket(deps: MergeDeps, input: MergeTicketInput): Promise<MergeTicketOutput> {
  checkSnapshot('start', input.start);
  checkSnapshot('onto', input.onto);
  if (input.start.bundle.sha256 !== input.onto.bundle.sha256 || input.start.base !== input.onto.base)
    throw badInput('the ticket started on another repository base than the run branch it merges onto');
  for (const f of input.files) {
    const why = unsafeRepoPath(f.path);
    if (why) throw badInput(`the ticket's file ${JSON.stringify(f.path.slice(0, 200))} ${why}: it cannot be committed`);
  }
  const dates = commitDates(input.at);
  const gitDir = await deps.open(input.onto);
  const g = { gitDir };
  // The forged-snapshot cases: commits the bundles do not hold, or a start that is not on the branch.
  for (const [what, sha] of [
    ['start', input.start.head],
    ['onto', input.onto.head],
  ] as const) {
    const type = await gitText(['cat-file', '-t', sha], { ...g, okCodes: [128] }).catch(() => '');
    if (type !== 'commit') throw badInput(`the ${what} commit ${sha} is not in the run's repository bundles`);
  }
  const ancestor = await git(['merge-base', '--is-ancestor', input.start.head, input.onto.head], {
    ...g,
    okCodes: [1],
  });
  if (ancestor.code !== 0)
    throw badInput(`the ticket's start ${input.start.head} is not on the run branch ${input.onto.head}`);

  // A file laid over a folder, a link, a submodule or through a file of the start tree would make
  // the commit delete what was tracked there (deletions are never carried): refused, as the tools do.
  for (const f of input.files) {
    try {
      await checkWritable({ gitDir, head: input.start.head }, f.path);
    } catch (err) {
      if (err instanceof WorkspacePathError) throw badInput(`the ticket's file cannot be committed: ${err.message}`);
      throw err;
    }
  }
  const startTree = await gitText(['rev-parse', `${input.start.head}^{tree}`], g);
  const tree = await ticketTree(deps.store, gitDir, input.start.head, input.files);
  if (tree === startTree) return { status: 'empty' };
  const message = commitMessage(input);
  const commit = (treeId: string, parent: string) =>
    gitText(['commit-tree', treeId, '-p', parent, '-F', '-'], { ...g, input: message, env: dates });
  const c = await commit(tree, input.start.head);
  let head = c;
  if (input.onto.head !== input.start.head) {
    const merged = await git(['merge-tree', '--write-tree', '--name-only', '-z', input.onto.head, c], {
      ...g,
      okCodes: [1],
    });
    const [mergedTree = '', ...rest] = merged.stdout.toString('utf8').split('\0');
    if (merged.code === 1) {
      const files = conflictNames(rest);
      return { status: 'conflict', files, hunks: await conflictHunks(gitDir, mergedTree, files) };
    }
    // The same change was already merged by another ticket: nothing to add.
    if (mergedTree === (await gitText(['rev-parse', `${input.onto.head}^{tree}`], g))) return { status: 'empty' };
    head = await commit(mergedTree, input.onto.head);
  }
  const series = await deps.storeSeries(gitDir, input.onto.base, head, input.branch);
  const patchText = (await git(['format-patch', '-1', '--stdout', '--no-signature', head], g)).stdout;
  const patch = await deps.store.put({ path: `${input.ticket.id}.patch`, content: patchText });
  const stat = await gitText(['diff', '--stat=100', `${head}~1`, head], g);
  return {
    status: 'merged',
    snapshot: { bundle: input.onto.bundle, base: input.onto.base, head, series },
    commit: {
      ticketId: input.ticket.id,
      role: input.ticket.role,
      commit: head,
      patch,
      diffstat: boundedStat(stat),
    },
  };
}

/**
 * The tree of `start` with the ticket's files laid over it, written with a temporary index (no
 * work tree). A file keeps its mode when it existed (an executable stays executable); a new one is
 * a plain file. `--replace` lets a file take the place of a folder and the other way round.
 */
async function ticketTree(
  store: ArtifactStore,
  gitDir: string,
  start: string,
  files: readonly ArtifactRef[],
): Promise<string> {
  const index = join(tmpdir(), `maestro-merge-index-${process.pid}-${randomUUID()}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    await git(['read-tree', start], { gitDir, env });
    // The last file of one path wins, as in the ticket's own folder.
    const byPath = new Map(files.map((f) => [f.path, f]));
    const modes = await existingModes(gitDir, start, [...byPath.keys()]);
    const lines: string[] = [];
    for (const f of byPath.values()) {
      const content = await store.read(f);
      const blob = await gitText(['hash-object', '-w', '--no-filters', '--stdin'], { gitDir, input: content });
      const mode = modes.get(f.path);
      lines.push(`${mode === '100755' ? '100755' : '100644'} ${blob}\t${f.path}`);
    }
    if (lines.length > 0)
      await git(['update-index', '--add', '--replace', '-z', '--index-info'], {
        gitDir,
        env,
        input: lines.map((l) => `${l}\0`).join(''),
      });
    return await gitText(['write-tree'], { gitDir, env });
  } finally {
    await rm(index, { force: true });
    await rm(`${index}.lock`, { force: true });
  }
}

/** Modes of the paths that exist in `commit` (only those asked for). */
async function existingModes(gitDir: string, commit: string, paths: string[]): Promise<Map<string, string>> {
  const modes = new Map<string, string>();
  if (paths.length === 0) return modes;
  // Batches keep the argument list bounded for tickets with many files.
  for (let i = 0; i < paths.length; i += 500) {
    const out = await git(['ls-tree', '-z', '--full-tree', commit, '--', ...paths.slice(i, i + 500)], { gitDir });
    for (const entry of out.stdout.toString('utf8').split('\0')) {
      const m = /^(\d+) \w+ [0-9a-f]+\t(.*)$/s.exec(entry);
      if (m) modes.set(m[2]!, m[1]!);
    }
  }
  return modes;
}

/** The conflicted file names of `merge-tree --name-only -z` (they end at the empty field). */
function conflictNames(fields: string[]): string[] {
  const end = fields.indexOf('');
  return [...new Set(end < 0 ? fields : fields.slice(0, end))].filter((f) => f !== '');
}

/**
 * The conflict regions of each file (with a few lines of context), read from the conflicted tree
 * merge-tree wrote, bounded: what the re-opened ticket is told to reconcile.
 */
async function conflictHunks(gitDir: string, tree: string, files: string[]): Promise<string> {
  const parts: string[] = [];
  let size = 0;
  for (const file of files.slice(0, 20)) {
    let text = '';
    if (COMMIT_ID.test(tree)) {
      const ls = await git(['ls-tree', '-z', tree, '--', file], { gitDir }).catch(() => undefined);
      const m = ls && /^\d+ blob ([0-9a-f]+)\t/.exec(ls.stdout.toString('utf8'));
      if (m)
        text =
          (
            await git(['cat-file', 'blob', m[1]!], { gitDir, maxBuffer: 8 * 1024 * 1024 }).catch(() => undefined)
          )?.stdout.toString('utf8') ?? '';
    }
    // Cut before fencing, so a long region never leaves its fence open (the rest of a prompt inside it).
    const regions = bounded(markerRegions(text), Math.max(200, MAX_HUNK_CHARS - size - file.length - 200));
    const part = `### ${file}\n${regions ? fenced(regions) : '(a conflict on the whole file: it was changed, added or removed on both sides)'}\n`;
    if (parts.length > 0 && size + part.length > MAX_HUNK_CHARS) break;
    parts.push(part);
    size += part.length;
  }
  if (files.length > parts.length) parts.push(`(and ${files.length - parts.length} more conflicting files)`);
  return bounded(parts.join('\n'), MAX_HUNK_CHARS);
}

/** The `<<<<<<< ... >>>>>>>` regions of a file with context, or '' when it has none. */
export function markerRegions(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('<<<<<<< ')) continue;
    let end = i;
    while (end < lines.length && !lines[end]!.startsWith('>>>>>>> ')) end++;
    const from = Math.max(0, i - HUNK_CONTEXT);
    const to = Math.min(lines.length, end + 1 + HUNK_CONTEXT);
    out.push(`@@ line ${from + 1} @@\n${lines.slice(from, to).join('\n')}`);
    i = end;
  }
  return out.join('\n');
}

/** Text in a fence longer than any run of backticks in it: a file's lines never pose as prompt sections. */
function fenced(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}\n${text}\n${ticks}`;
}

/** A diffstat cut to MAX_DIFFSTAT_CHARS that always keeps its last line (`N files changed, ...`). */
function boundedStat(stat: string): string {
  if (stat.length <= MAX_DIFFSTAT_CHARS) return stat;
  const lines = stat.split('\n');
  const total = lines.pop() ?? '';
  const kept: string[] = [];
  let size = total.length + 60;
  for (const l of lines) {
    if (size + l.length + 1 > MAX_DIFFSTAT_CHARS) break;
    kept.push(l);
    size += l.length + 1;
  }
  return [...kept, ` … (${lines.length - kept.length} more files)`, total].join('\n');
}

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 40)}\n… (${text.length - max + 40} more characters)` : text;
}

/**
 * The `mergeTicket` activity over this worker's repository copies (cache.ts). It heartbeats, so a
 * merge on a killed worker moves to another within the heartbeat timeout; that retry rebuilds the
 * copy from the store if needed and makes the same commit.
 */
export function createMergeActivities(deps: { store: ArtifactStore; repoParent?: string }) {
  const merge: MergeDeps = {
    store: deps.store,
    open: (s) => openSnapshot(deps.store, s, deps.repoParent),
    storeSeries: (gitDir, base, head, branch) => storeSeries(deps.store, gitDir, base, head, branch),
  };
  return {
    async mergeTicket(input: MergeTicketInput): Promise<MergeTicketOutput> {
      return withActivityContext(() => mergeTicket(merge, input));
    },
  };
}
