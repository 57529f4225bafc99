/**
 * Runs on a git repository (issue 20): the plain data that travels through workflow histories.
 * The repository travels by content: the client packs the base commit into a git bundle in the
 * artifact store, and every later state of the run's branch is a bundle of the commits since the
 * base, also in the store. Histories carry hashes and commit ids, never file contents.
 */
import type { ArtifactRef } from './types';

/** A git object id (40 hex digits, SHA-1 repositories). */
export const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * A commit a worker on any host can rebuild from the artifact store: the base bundle, plus (when
 * `head` is not `base`) a bundle of the commits `base..head`.
 */
export interface RepoSnapshot {
  /** `git bundle` of the base commit (its whole history as the client had it). */
  bundle: ArtifactRef;
  /** The base commit id (what `--base` resolved to). */
  base: string;
  /** The commit this snapshot is at. */
  head: string;
  /** `git bundle` of `base..head` (absent when head is base). */
  series?: ArtifactRef;
}

/** What `maestro run --repo` gives the run. */
export interface RepoInput {
  /** The repository's folder name, for people (e.g. `uuid`). */
  name: string;
  /** What the person asked for as the base (`HEAD`, `main`, a commit id). */
  baseRef: string;
  /** The base commit, packed; `head` equals `base`. */
  snapshot: RepoSnapshot;
  /** The bounded repository map the Boss plans from (tree, languages, README opening, commands, symbols). */
  map: string;
  /** The repository's own test command (detected or from maestro.config.json), e.g. `go test ./...`. */
  testCommand?: string;
  /** The branch the result is delivered on: `maestro/<runId>`. */
  branch: string;
}

/** What a ticket of a repo run works on (TicketInput.repo, and through it the agent's tools). */
export interface RepoWork {
  /** The run branch as it was when the ticket started: base plus every ticket merged by then. */
  start: RepoSnapshot;
  testCommand?: string;
  /** The repository's name (RepoInput.name), for the worker prompt's Repository line. */
  name?: string;
}

/** One ticket's commit on the run branch. */
export interface RepoCommit {
  ticketId: string;
  role: string;
  commit: string;
  /** `git format-patch` text of the commit (what `maestro result --patch` prints). */
  patch: ArtifactRef;
  /** `git diff --stat` of the commit, bounded. */
  diffstat: string;
}

/** Input of the `mergeTicket` activity (the merge queue; one at a time per run). */
export interface MergeTicketInput {
  runId: string;
  branch: string;
  ticket: { id: string; role: string; title: string; summary: string };
  /** What the ticket worked on. */
  start: RepoSnapshot;
  /** The run branch now (start, or later when other tickets were merged meanwhile). */
  onto: RepoSnapshot;
  /** The ticket's files (full contents), laid over `start`'s tree. */
  files: ArtifactRef[];
  /** Commit time (ISO), fixed by the workflow so that a retried merge makes the same commit id. */
  at: string;
}

/** How a merge ended. */
export type MergeTicketOutput =
  | { status: 'merged'; snapshot: RepoSnapshot; commit: RepoCommit }
  /** The ticket changed nothing: no commit. */
  | { status: 'empty' }
  /** The ticket's change does not apply on `onto`: the files and the conflicting hunks (bounded). */
  | { status: 'conflict'; files: string[]; hunks: string };

/** Input of the `repoTests` activity: a ticket's tree (snapshot plus its files) or the integrated branch. */
export interface RepoTestsInput {
  runId: string;
  /** The ticket whose tree is tested (absent: the integrated branch at `snapshot.head`). */
  ticketId?: string;
  snapshot: RepoSnapshot;
  /** The ticket's own files laid over the snapshot (empty for the integrated branch). */
  own: ArtifactRef[];
  testCommand: string;
}

/** The repository's own tests on one tree (a ticket's, or the integrated branch's). */
export interface RepoTestResult {
  command: string;
  /** Exit code (absent when the sandbox stopped the command). */
  exitCode?: number;
  passed: boolean;
  /** Why the sandbox stopped it (time, memory...), when it did. */
  stopped?: string;
  durationMs: number;
  /** The output's tail, bounded. */
  output: string;
  /** The whole output in the store. */
  log?: ArtifactRef;
  /** The commit the tests ran on (integrated branch), or absent for a ticket's tree. */
  commit?: string;
}

/** What a repo run returns beside the usual result (RunResult.repo). */
export interface RepoResult {
  branch: string;
  base: string;
  head: string;
  /** Bundle of base..head (absent when nothing was committed). */
  series?: ArtifactRef;
  commits: RepoCommit[];
  /** The repository's tests on the integrated branch before the final gate. */
  tests?: RepoTestResult;
}
