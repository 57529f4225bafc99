/**
 * The client's end of a repo run (client/repo-run.ts) on a RunResult.repo made here the way a
 * worker makes it (cache.ts on the packed base, storeSeries, patches in the store):
 * `deliverRunBranch` fetches the branch into the person's repository and prints how to review
 * it; `seriesText` (`maestro result --patch`) prints the patches in merge order, escaped on a
 * terminal and raw in a pipe; a run without a repository or without commits says so.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { openSnapshot, storeSeries } from '../../src/activities/repo/cache';
import { git } from '../../src/activities/repo/git';
import { packBase } from '../../src/activities/repo/pack';
import { deliverRunBranch, seriesText } from '../../src/client/repo-run';
import type { RepoResult } from '../../src/shared/repo';
import { artifactRoot } from '../../src/workers/activity-deps';

let home: string;
let printed: string[];
let spy: jest.SpyInstance;
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'repo-delivery-client-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => {
  printed = [];
  spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
});
afterEach(() => spy.mockRestore());

/** The client is only asked for blobs missing from the local store; none are here. */
const client = {} as Client;
const text = async (args: string[], cwd: string) => (await git(args, { cwd })).stdout.toString('utf8').trim();

/** A repository, and a RepoResult of two ticket commits on its base, stored as a worker stores them. */
async function finishedRun(runId: string): Promise<{ dir: string; repo: RepoResult }> {
  const store = new FsArtifactStore(artifactRoot(home));
  const dir = path.join(home, runId);
  await mkdir(dir);
  await git(['init', '--quiet', dir]);
  await writeFile(path.join(dir, 'a.go'), 'package a\n');
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'base'], { cwd: dir });
  const packed = await packBase(dir, 'HEAD', store);
  const base = packed.snapshot.base;
  const gitDir = await openSnapshot(store, packed.snapshot, path.join(home, 'copies'));
  const commits: RepoResult['commits'] = [];
  let parent = base;
  for (const [i, body] of ['func A() {}\n', 'func B() {}\n\x1b[31m'].entries()) {
    const blob = (await git(['hash-object', '-w', '--stdin'], { gitDir, input: `package a\n\n${body}` })).stdout
      .toString()
      .trim();
    const tree = (await git(['mktree'], { gitDir, input: `100644 blob ${blob}\ta.go\n` })).stdout.toString().trim();
    const id = `T${i + 1}`;
    const msg = `${id}: change a.go\n\nMaestro-Run: ${runId}\nMaestro-Ticket: ${id}\nMaestro-Role: coder`;
    parent = (await git(['commit-tree', tree, '-p', parent, '-m', msg], { gitDir })).stdout.toString().trim();
    const patch = (await git(['format-patch', '--stdout', '-1', parent], { gitDir })).stdout;
    commits.push({
      ticketId: id,
      role: 'coder',
      commit: parent,
      patch: await store.put({ path: `repo/${id}.patch`, content: patch }),
      diffstat: ' a.go | 2 +-',
    });
  }
  const branch = `maestro/${runId}`;
  const series = await storeSeries(store, gitDir, base, parent, branch);
  return { dir, repo: { branch, base, head: parent, series, commits } };
}

test('the branch is fetched into the repository and the review commands are printed', async () => {
  const { dir, repo } = await finishedRun('run-a');
  const log = jest.fn();
  expect(await deliverRunBranch({ client, home, runId: 'run-a', repo, repoPath: dir, log })).toBe(true);
  expect(await text(['rev-parse', 'maestro/run-a'], dir)).toBe(repo.head);
  expect(
    await text(
      ['log', '--format=%(trailers:key=Maestro-Ticket,valueonly)', '--reverse', `${repo.base}..maestro/run-a`],
      dir,
    ),
  ).toBe('T1\n\nT2');
  expect(printed[0]).toBe(
    `Branch maestro/run-a: 2 commit(s) on ${repo.base.slice(0, 12)}, head ${repo.head.slice(0, 12)}. Review it with:`,
  );
  expect(printed.slice(1)).toEqual([
    `  git log --format=full ${repo.base.slice(0, 12)}..maestro/run-a`,
    `  git diff ${repo.base.slice(0, 12)}...maestro/run-a`,
  ]);
  expect(await text(['status', '--porcelain'], dir)).toBe('');
});

test('--patch prints the patches in order: raw in a pipe (git am applies them), escaped on a terminal', async () => {
  const { dir, repo } = await finishedRun('run-b');
  const raw = await seriesText({ client, home, runId: 'run-b', repo, log: jest.fn(), tty: false });
  expect(raw.indexOf('Maestro-Ticket: T1')).toBeLessThan(raw.indexOf('Maestro-Ticket: T2'));
  expect(raw).toContain('\x1b[31m');
  const shown = await seriesText({ client, home, runId: 'run-b', repo, log: jest.fn(), tty: true });
  expect(shown).not.toContain('\x1b');
  expect(shown).toContain('\\x1b[31m');
  // The raw series applies on the base in another checkout.
  const other = path.join(home, 'apply');
  await git(['clone', '--quiet', dir, other]);
  await git(['am', '--quiet'], { cwd: other, input: raw });
  expect(await text(['log', '--format=%s', '-2'], other)).toBe('T2: change a.go\nT1: change a.go');
  expect(await text(['show', 'HEAD:a.go'], other)).toContain('func B() {}');
});

test('a run without a repository or without commits says so and makes no branch', async () => {
  const { dir, repo } = await finishedRun('run-c');
  const log = jest.fn();
  expect(await deliverRunBranch({ client, home, runId: 'run-c', repo: undefined, repoPath: dir, log })).toBe(false);
  expect(log).toHaveBeenCalledWith('Run run-c did not work on a repository: there is no branch to fetch.');
  const empty: RepoResult = { branch: repo.branch, base: repo.base, head: repo.base, commits: [] };
  expect(await deliverRunBranch({ client, home, runId: 'run-c', repo: empty, repoPath: dir, log })).toBe(false);
  expect(log).toHaveBeenCalledWith('Run run-c committed nothing on maestro/run-c: no branch was made.');
  expect(await text(['branch', '--list', 'maestro/*'], dir)).toBe('');
  await expect(seriesText({ client, home, runId: 'run-c', repo: undefined, log, tty: false })).rejects.toThrow(
    /did not work on a repository/,
  );
});

test('a branch whose tests failed is delivered with that said beside the review commands', async () => {
  const { dir, repo } = await finishedRun('run-f');
  const tests = { command: 'go test ./...', passed: false, exitCode: 1, durationMs: 5, output: 'FAIL' };
  expect(
    await deliverRunBranch({ client, home, runId: 'run-f', repo: { ...repo, tests }, repoPath: dir, log: jest.fn() }),
  ).toBe(true);
  expect(printed.at(-1)).toBe(
    `Its tests FAILED on ${repo.head.slice(0, 12)}: go test ./... (exit code 1); fix them before merging it.`,
  );
});
