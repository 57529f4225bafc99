/**
 * A real coding-agent CLI nobody here wrote works the tickets of `maestro run --repo` (issues 20
 * and 21): the Coder is Codex (installed under .maestro/agent-clis), run by `maestro worker`
 * processes in the sandbox, reaching the simulated model only through Maestro's LLM gateway. Each
 * ticket's space is its git tree (a real repository: idna's sdist from PyPI); Codex edits it with
 * its own shell tool, the Boss reviews the diff with the project's tests, and the merge queue
 * commits exactly what Codex changed. The delivered branch holds one commit per ticket, passes
 * idna's tests on a clone, and the user's checkout is untouched. Nothing is skipped: a missing
 * CLI fails with the reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findCliProgram } from '../../src/activities/executor/cli-specs';
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { pythonFixture, runFixtureTests } from '../helpers/repo-fixtures';
import type { WorkerProcess } from '../helpers/worker-process';
import {
  branchCommits,
  checkoutState,
  cloneBranch,
  startCli,
  userText,
  useRepoRunHarness,
  waitFor,
  workerRequests,
} from '../helpers/repo-run';

const MAESTRO_HOME = path.resolve(__dirname, '../../.maestro');
const CODEX = findCliProgram('codex', MAESTRO_HOME, '');

const h = useRepoRunHarness('executor-repo', {
  team: {
    roles: [
      { name: 'coder', executor: { agent: 'codex', wallMs: 240_000, maxRetries: 1 } },
      { name: 'designer' },
      { name: 'writer' },
      { name: 'tester' },
    ],
  },
  // The workers find codex on their PATH (their own MAESTRO_HOME is a fresh one).
  workerEnv: { PATH: `${CODEX ? path.dirname(CODEX) : ''}:${process.env.PATH ?? ''}` },
});

let worker: WorkerProcess;
beforeAll(async () => {
  if (!CODEX)
    throw new Error(
      `codex is not installed under ${MAESTRO_HOME}/agent-clis: run .ci/run, or npm install --prefix .maestro/agent-clis @openai/codex@0.171.0`,
    );
  worker = await h.worker();
});

/** Whether a logged request is one a CLI made (its prompt ends with the executor's instructions). */
const fromCli = (r: SimRequestRecord) => userText(r).includes('## How to deliver');

test('Codex codes the tickets of a --repo run on idna: reviewed, merged, its commits on the branch, tests pass', async () => {
  const fx = await pythonFixture();
  const goal = 'Add small tagged helper functions to idna, with tests';
  const before = await checkoutState(fx.dir);
  h.sim.clearRequests();
  const cli = startCli(['run', goal, '--repo', fx.dir, '--yes'], h.clientEnv());
  const res = await cli.done;
  if (res.code !== 0) throw new Error(`maestro run failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
  const runId = await cli.runId();
  expect(await checkoutState(fx.dir)).toEqual(before);

  const commits = await branchCommits(fx.dir, fx.head, `maestro/${runId}`);
  const ids = commits.map((c) => c.trailers['Maestro-Ticket']?.[0] ?? '?');
  expect([...ids].sort()).toEqual(['T1', 'T2', 'T3']);
  const log = h.sim.requests();
  for (const c of commits) {
    const id = c.trailers['Maestro-Ticket']![0]!;
    expect(c.trailers['Maestro-Run']).toEqual([runId]);
    expect(c.trailers['Maestro-Role']).toEqual(['coder']);
    // Exactly the files Codex changed: the source file it added to and its test, nothing of its .git.
    expect(c.files).toHaveLength(2);
    expect(c.files).toContain(`tests/test_maestro_t${id.slice(1)}.py`);
    // The ticket was Codex's: every model call of it came through the CLI (its prompt, its tools).
    const calls = workerRequests(log, id);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const r of calls) {
      expect(userText(r)).toContain('## How to deliver');
      expect(userText(r)).toContain('git work tree of idna');
      for (const m of r.messages) expect(m.content).not.toContain(goal);
    }
  }

  const checkout = await cloneBranch(fx.dir, `maestro/${runId}`);
  const t = await runFixtureTests(fx, checkout);
  expect(t.output).toMatch(/\b35 passed\b/); // idna's 32 tests and the three Codex added
  expect(t.code).toBe(0);
  for (const c of commits) {
    const source = c.files.find((f) => f.startsWith('idna/'))!;
    const id = c.trailers['Maestro-Ticket']![0]!.toLowerCase();
    expect(readFileSync(path.join(checkout, source), 'utf8')).toMatch(new RegExp(`^def maestro_${id}\\(`, 'm'));
  }
}, 900_000);

test('a worker SIGKILLed mid-Codex: the attempt runs again on another worker in a tree rebuilt from the store', async () => {
  const fx = await pythonFixture();
  h.sim.clearRequests();
  // T1's first model call answers slowly, so the kill lands while Codex waits for it.
  h.sim.injectFault({ kind: 'latency', latencyMs: 8000, times: 1, match: { ticketId: 'T1' } });
  const cli = startCli(
    ['run', 'Add small tagged helpers to idna, with tests', '--repo', fx.dir, '--yes'],
    h.clientEnv(),
  );
  const runId = await cli.runId();
  await waitFor('a model call of Codex on T1 in flight', () =>
    h.sim.requests().some((q) => q.status === 0 && q.ticketId === 'T1' && fromCli(q)),
  );
  await worker.kill();
  worker = await h.worker();
  const res = await cli.done;
  if (res.code !== 0) throw new Error(`maestro run failed (${res.code}):\n${res.stdout}\n${res.stderr}`);

  const commits = await branchCommits(fx.dir, fx.head, `maestro/${runId}`);
  expect(commits.map((c) => c.trailers['Maestro-Ticket']?.[0]).sort()).toEqual(['T1', 'T2', 'T3']);
  const t1 = commits.find((c) => c.trailers['Maestro-Ticket']?.[0] === 'T1')!;
  expect(t1.files).toHaveLength(2);
  // T1 ran twice: the killed attempt's call, then a whole attempt (first call again) on the new worker.
  const t1Calls = workerRequests(h.sim.requests(), 'T1').filter(fromCli);
  expect(t1Calls.filter((r) => !r.messages.some((m) => m.role === 'tool')).length).toBeGreaterThanOrEqual(2);
  const t = await runFixtureTests(fx, await cloneBranch(fx.dir, `maestro/${runId}`));
  expect(t.output).toMatch(/\b35 passed\b/);
  expect(t.code).toBe(0);
}, 900_000);
