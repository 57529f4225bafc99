/**
 * `maestro run "<goal>" --repo <dir> --yes` on real open-source projects fetched from their
 * registries (a Go module from the module proxy, a Python sdist from PyPI), with the simulated
 * LLM and `maestro worker` processes whose coder is an agent with tools. What a user would check:
 * the run completes; the branch `maestro/<runId>` holds one commit per accepted ticket in
 * dependency order, each with its trailers and only its ticket's files; the project's own tests
 * ran in the sandbox and pass on a clone of the branch; the user's checkout is untouched. Plus
 * the conflict (`[sim:repo-conflict]`) and repair (`[sim:repo-fail=T1]`) scenarios and context
 * hygiene checked from the request log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { goFixture, pythonFixture, runFixtureTests, type RepoFixture } from '../helpers/repo-fixtures';
import {
  branchCommits,
  checkoutState,
  cloneBranch,
  startCli,
  toolResults,
  userText,
  useRepoRunHarness,
  workerRequests,
  type BranchCommit,
} from '../helpers/repo-run';

const h = useRepoRunHarness('repo-run');

beforeAll(async () => {
  await h.worker();
});
beforeEach(() => h.sim.clearRequests());

/** Runs a goal on a fixture and checks what every repo run must deliver; returns what the tests look at. */
async function runOn(fx: RepoFixture, goal: string) {
  const before = await checkoutState(fx.dir);
  const cli = startCli(['run', goal, '--repo', fx.dir, '--yes'], h.clientEnv());
  const res = await cli.done;
  if (res.code !== 0) throw new Error(`maestro run failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  const runId = await cli.runId();
  const branch = `maestro/${runId}`;

  // The user's checkout is exactly as it was: HEAD, branch, status, index bytes, stashes.
  expect(await checkoutState(fx.dir)).toEqual(before);

  const commits = await branchCommits(fx.dir, fx.head, branch);
  const log = h.sim.requests();
  return { runId, branch, commits, log, res };
}

/** Each commit is one accepted ticket's, with the trailers, in dependency order; returns the ticket ids. */
function expectTicketCommits(commits: BranchCommit[], runId: string): string[] {
  const ids = commits.map((c) => c.trailers['Maestro-Ticket']?.[0] ?? '?');
  for (const c of commits) {
    expect(c.trailers['Maestro-Run']).toEqual([runId]);
    expect(c.trailers['Maestro-Ticket']).toHaveLength(1);
    expect(c.trailers['Maestro-Role']).toEqual(['coder']);
    expect(c.subject.length).toBeGreaterThan(0);
  }
  expect(new Set(ids).size).toBe(ids.length); // no ticket committed twice
  // T3 builds on T1 (and on T2 when they share a file): it comes after them.
  expect(ids.indexOf('T3')).toBeGreaterThan(ids.indexOf('T1'));
  return ids;
}

/** The files of ticket Tn's commit: the source file it was given and its own test file, nothing else. */
function expectOwnFiles(c: BranchCommit, testFile: (n: string) => string) {
  const n = c.trailers['Maestro-Ticket']![0]!.slice(1);
  expect(c.files).toHaveLength(2);
  expect(c.files).toContain(testFile(n));
}

/** The project's test command ran in the sandbox for every ticket, and its last run passed there. */
function expectSandboxTestsPassed(log: ReturnType<typeof h.sim.requests>, ids: string[], passed: RegExp) {
  for (const id of ids) {
    const runs = workerRequests(log, id)
      .flatMap(toolResults)
      .filter((t) => t.startsWith('$ '));
    expect(runs.length).toBeGreaterThan(0);
    const last = runs[runs.length - 1]!;
    expect(last).toMatch(/^exit code 0\b/m);
    expect(last).toMatch(passed);
  }
}

describe('maestro run --repo on a Go module from the module proxy (google/uuid)', () => {
  it('delivers a branch of one commit per ticket, tested with go test, without touching the checkout', async () => {
    const fx = await goFixture();
    const goal = 'Add small tagged helper functions to the uuid package, each with a unit test';
    const { runId, branch, commits, log } = await runOn(fx, goal);
    const ids = expectTicketCommits(commits, runId);
    expect([...ids].sort()).toEqual(['T1', 'T2', 'T3']);
    for (const c of commits) expectOwnFiles(c, (n) => `maestro_t${n}_test.go`);
    expectSandboxTestsPassed(log, ids, /^ok\s+github\.com\/google\/uuid/m);

    const checkout = await cloneBranch(fx.dir, branch);
    const t = await runFixtureTests(fx, checkout);
    expect(t.output).toMatch(/^ok\s+github\.com\/google\/uuid/m);
    expect(t.code).toBe(0);
    const t1 = commits.find((c) => c.trailers['Maestro-Ticket']?.[0] === 'T1')!;
    const source = t1.files.find((f) => !f.startsWith('maestro_t'))!;
    const text = readFileSync(path.join(checkout, source), 'utf8');
    expect(text).toContain('func MaestroT1() string { return "T1" }');
    expect(text).toContain('func MaestroT3() string { return MaestroT1() + "+T3" }');

    // Hygiene: the goal reaches the Boss only; each worker sees its ticket's files and its dependencies' diffs.
    for (const r of log.filter((q) => q.schemaName !== SCHEMA_NAMES.plan && q.schemaName !== SCHEMA_NAMES.final))
      for (const m of r.messages) expect(m.content).not.toContain(goal);
    for (const id of ids) {
      const first = userText(workerRequests(log, id)[0]!);
      const commit = commits.find((c) => c.trailers['Maestro-Ticket']?.[0] === id)!;
      const shown = [...first.matchAll(/^### (\S+)(?: \(new file\))?$/gm)].map((m) => m[1]);
      const deps = [...first.matchAll(/^### (T\d+) /gm)].map((m) => m[1]);
      expect(shown.filter((p) => !/^T\d+$/.test(p!)).sort()).toEqual([...commit.files].sort());
      expect(deps).toEqual(id === 'T3' ? ['T1'] : []);
    }
  }, 900_000);
});

describe('maestro run --repo on a Python project from PyPI (idna sdist)', () => {
  it('[sim:repo-fail=T1]: the failing first attempt is revised, the branch passes the project tests', async () => {
    const fx = await pythonFixture();
    const goal = 'Add small tagged helper functions to idna, with tests [sim:repo-fail=T1]';
    const { runId, branch, commits, log } = await runOn(fx, goal);
    const ids = expectTicketCommits(commits, runId);
    expect([...ids].sort()).toEqual(['T1', 'T2', 'T3']);
    for (const c of commits) expectOwnFiles(c, (n) => `tests/test_maestro_t${n}.py`);
    expectSandboxTestsPassed(log, ids, /\bpassed\b/);
    // T1's first attempt ran the tests and they failed; the review sent it back; the second passed.
    const t1Runs = workerRequests(log, 'T1')
      .flatMap(toolResults)
      .filter((t) => t.startsWith('$ '));
    expect(t1Runs.some((t) => /^exit code [1-9]/m.test(t) && /T1-wrong/.test(t))).toBe(true);
    const reviews = log.filter(
      (r) => r.schemaName === SCHEMA_NAMES.review && /# Review of ticket T1\b/.test(userText(r)),
    );
    expect(reviews.length).toBeGreaterThanOrEqual(2);

    const checkout = await cloneBranch(fx.dir, branch);
    const t = await runFixtureTests(fx, checkout);
    expect(t.output).toMatch(/\b35 passed\b/); // idna's 32 tests and the three added
    expect(t.code).toBe(0);
    expect(
      readFileSync(
        path.join(
          checkout,
          commits[0]!.files.find((f) => f.startsWith('idna/'))!,
        ),
        'utf8',
      ),
    ).not.toContain('wrong');
  }, 900_000);

  it('[sim:repo-conflict]: two tickets change the same lines; one is re-opened on the new base and the branch passes', async () => {
    const fx = await pythonFixture();
    const { runId, branch, commits, log } = await runOn(fx, 'Add tagged helpers in one file [sim:repo-conflict]');
    const ids = expectTicketCommits(commits, runId);
    expect([...ids].sort()).toEqual(['T1', 'T2', 'T3']);
    const source = commits[0]!.files.find((f) => f.startsWith('idna/'))!;
    expect(commits.every((c) => c.files.includes(source))).toBe(true); // all three on one file
    // The ticket merged second was re-opened: a later attempt was shown the first one's function.
    const [first, second] = ids;
    const reopened = workerRequests(log, second).filter(
      (r) => r.messages.length === 2 && userText(r).includes(`def maestro_${first!.toLowerCase()}():`),
    );
    expect(reopened.length).toBeGreaterThan(0);
    expect(userText(reopened[0]!)).toMatch(/conflict/i);

    const checkout = await cloneBranch(fx.dir, branch);
    const text = readFileSync(path.join(checkout, source), 'utf8');
    for (const n of ['1', '2', '3']) expect(text.match(new RegExp(`^def maestro_t${n}\\(`, 'gm'))).toHaveLength(1);
    expect(text).not.toMatch(/^(<<<<<<<|=======|>>>>>>>)/m);
    const t = await runFixtureTests(fx, checkout);
    expect(t.code).toBe(0);
  }, 900_000);
});
