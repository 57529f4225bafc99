/**
 * The repository's own tests (issue 20): its test command (`go test ./...`, `pytest`, `npm test`)
 * run in the sandbox on a tree, either a ticket's (its start plus its own files) or the integrated
 * branch's head. Same isolation as `run_command`, with the worker's toolchains bound read-only and
 * a build cache in the sandbox's own /tmp, all offline; the limits are a test suite's, fixed here.
 */
import { ApplicationFailure } from '@temporalio/common';
import os from 'node:os';
import type { RepoTestResult, RepoTestsInput } from '../../shared/repo';
import { REPO_PROGRAMS, SANDBOX_PROGRAMS, type SandboxLimits } from '../../shared/tools';
import { FailureType } from '../../shared/errors';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { withActivityContext } from '../context';
import type { ActivityDeps } from '../deps';
import { detectIsolation, parseCommand, runSandboxed, SandboxRefusal, type Isolation } from '../tools/sandbox';
import { TOOLCHAIN_TMP_MB, workerToolchains } from '../tools/sandbox-toolchains';
import { defaultRepoParent, openSnapshot } from './cache';
import { materialiseTree, type RepoTree } from './tree';

/** Limits of one run of a repository's tests (a test suite compiles, forks and writes more than a tool call). */
export const REPO_TEST_LIMITS: Required<SandboxLimits> = {
  timeoutMs: 600_000,
  cpuSeconds: 600,
  memoryMb: 2048,
  maxProcesses: 512,
  outputBytes: 4 * 1024 * 1024,
  diskMb: 1024,
  maxFiles: 200_000,
};

/** Characters of the output's tail a result carries (the whole log is in the store). */
export const REPO_TEST_TAIL_CHARS = 4000;

/** Programs a repository's tests and a repo ticket's commands may start. */
export function repoPrograms(): string[] {
  return [...new Set([...SANDBOX_PROGRAMS, ...REPO_PROGRAMS])];
}

/** What to test: a tree and its command. */
export interface RepoTestRun {
  store: ArtifactStore;
  tree: RepoTree;
  own: readonly ArtifactRef[];
  command: string;
  /** Folders the sandbox covers (MAESTRO_HOME, the artifact store, the repository copies). */
  hide: string[];
  workspaceParent?: string;
  isolation?: Isolation;
  limits?: Required<SandboxLimits>;
  signal?: AbortSignal;
  /** Name of the stored log (e.g. `T3` or the head commit). */
  label: string;
}

function tail(text: string, max = REPO_TEST_TAIL_CHARS): string {
  return text.length <= max
    ? text
    : `[... ${text.length - max} earlier characters in the stored log]\n${text.slice(-max)}`;
}

/**
 * Runs the tests; a failing, refused or stopped command is a result (passed: false) that says so.
 * Throws only for infrastructure problems (no sandbox on this worker, a missing artifact).
 */
export async function runRepoTests(r: RepoTestRun): Promise<RepoTestResult> {
  const limits = r.limits ?? REPO_TEST_LIMITS;
  const started = Date.now();
  let argv: string[];
  try {
    argv = parseCommand(r.command, repoPrograms());
  } catch (err) {
    if (!(err instanceof SandboxRefusal)) throw err;
    const output = `the test command was not run: ${err.message} (set "testCommand" in maestro.config.json to one program with its arguments)`;
    return { command: r.command, passed: false, stopped: 'refused', durationMs: 0, output };
  }
  const ws = await materialiseTree(r.store, r.tree, r.own, r.workspaceParent ?? os.tmpdir(), {
    bytes: limits.diskMb * 1024 * 1024,
    entries: limits.maxFiles,
  });
  try {
    const res = await runSandboxed({
      dir: ws.dir,
      argv,
      limits,
      hide: [...r.hide, defaultRepoParent(), ...(r.workspaceParent ? [r.workspaceParent] : [])],
      toolchains: workerToolchains(r.hide),
      tmpMb: TOOLCHAIN_TMP_MB,
      ...(r.isolation ? { isolation: r.isolation } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
    });
    const status =
      res.stopped !== undefined ? `STOPPED by the sandbox: ${res.stopped}` : `exit code ${res.exitCode ?? '?'}`;
    const hit = res.limitsHit.map((l) => `limit reached: ${l}\n`).join('');
    const full = `$ ${r.command}\n${status} (${res.durationMs} ms)\n${hit}${res.output}`;
    const log = await r.store.put({ path: `repo-tests/${r.label.replace(/[^\w.-]/g, '_')}.log`, content: full });
    return {
      command: r.command,
      ...(res.exitCode !== undefined ? { exitCode: res.exitCode } : {}),
      passed: res.stopped === undefined && res.exitCode === 0,
      ...(res.stopped !== undefined ? { stopped: res.stopped } : {}),
      durationMs: Date.now() - started,
      output: tail(full),
      log,
    };
  } finally {
    await ws.dispose();
  }
}

/** Creates the `repoTests` activity over `deps`. */
export function createRepoTestActivities(deps: ActivityDeps) {
  return {
    /** The repository's tests on a ticket's tree or the integrated branch; see runRepoTests. */
    async repoTests(input: RepoTestsInput): Promise<RepoTestResult> {
      if (detectIsolation() === 'none')
        throw ApplicationFailure.create({
          type: FailureType.ToolUnavailable,
          message:
            "this worker has no sandbox (needs root with unshare/setpriv/prlimit, or bubblewrap), so it cannot run the repository's tests",
        });
      const gitDir = await openSnapshot(deps.store, input.snapshot);
      const res = await withActivityContext((signal) =>
        runRepoTests({
          store: deps.store,
          tree: { gitDir, head: input.snapshot.head },
          own: input.own,
          command: input.testCommand,
          hide: deps.sandboxHide ?? [],
          label: `${input.runId}-${input.ticketId ?? input.snapshot.head.slice(0, 12)}`,
          ...(signal ? { signal } : {}),
        }),
      );
      return input.ticketId === undefined ? { ...res, commit: input.snapshot.head } : res;
    },
  };
}
