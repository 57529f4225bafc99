/**
 * The CLI as a newcomer meets it on day one (issue 9), through the real `maestro` binary against
 * the suite's Temporal server and a `maestro worker` process with the simulated LLM: exit codes
 * by the book, run ids that cannot escape a folder or be silently reused, output folders that are
 * never overwritten, control characters that never reach the terminal, messages that say what
 * happened, partial results of cancelled runs, `maestro temporal` and the `list` columns.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { cleanEnv, runCli } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const GOAL = 'Build a landing page for a bakery called Crumb';
let sim: SimLlm;
let worker: WorkerProcess;
let env: NodeJS.ProcessEnv;
let home: string;
let work: string;

beforeAll(async () => {
  sim = await startSimLlm({ port: 0, latencyMs: 20 });
  home = mkdtempSync(path.join(os.tmpdir(), 'maestro-newcomer-'));
  work = mkdtempSync(path.join(os.tmpdir(), 'maestro-newcomer-work-'));
  env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue('newcomer'),
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: home,
  });
  worker = await spawnWorker(env);
});
afterAll(async () => {
  await worker?.kill();
  await sim?.close();
});

const ESC = '\u001b';

async function statusJson(runId: string): Promise<{ phase: string; pendingGates: { id: string; kind: string }[] }> {
  const res = await runCli(['status', runId, '--json'], env);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as { phase: string; pendingGates: { id: string; kind: string }[] };
}

/**
 * Waits for a pending gate. A run started by a concurrent `maestro run` may not exist yet when the
 * first status is asked (it is still connecting), so "no run with id" means "ask again" here.
 */
async function untilGate(runId: string, kind: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const res = await runCli(['status', runId, '--json'], env);
    if (res.code === 0) {
      const status = JSON.parse(res.stdout) as { pendingGates: { kind: string }[] };
      if (status.pendingGates.some((g) => g.kind === kind)) return;
    } else if (!res.stderr.includes(`There is no run with id ${runId}`)) {
      throw new Error(`maestro status ${runId} failed (exit ${res.code}): ${res.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no ${kind} gate on ${runId}`);
}

describe('exit code 2: bad input, with one line saying what to fix', () => {
  it.each([
    [['run', GOAL, '--max-parallel', '0'], '--max-parallel takes a whole number from 1 to 100; got "0"'],
    [
      ['run', GOAL, '--budget-tokens', '1.5'],
      '--budget-tokens takes a whole number from 1 to 1000000000000; got "1.5"',
    ],
    [['run', GOAL, '--gate-timeout', 'plan=1m:approve', '--gate-timeout', 'plan=2h:reject'], 'is given twice'],
    [['run', GOAL, '--run-id', '../../../escape-nc'], 'not a valid run id ("../../../escape-nc")'],
    [['run', GOAL, '--run-id', ''], 'the run id is empty'],
    [['run', `${GOAL} ${ESC}[31mred${String.fromCharCode(7)}`], 'the goal contains control characters'],
    [['status', 'no-such-run-1'], 'There is no run with id no-such-run-1; see `maestro list`.'],
    [['result', 'no-such-run-1'], 'There is no run with id no-such-run-1'],
    [['bogus-command'], "unknown command 'bogus-command'"],
  ])('maestro %j', async (args, message) => {
    const res = await runCli(args, env);
    expect(res.stderr).toContain(message);
    expect(res.code).toBe(2);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(path.join(home, '..', 'escape-nc'))).toBe(false);
  });
});

it('an empty --out is refused before any server is asked (none listens here)', async () => {
  for (const args of [
    ['result', 'no-such-run-1', '--out', ''],
    ['run', GOAL, '--out', ' '],
  ]) {
    const res = await runCli(args, { ...env, TEMPORAL_ADDRESS: '127.0.0.1:9' }, 30_000);
    expect(res.stderr).toContain('--out is empty: give the folder to write the files to');
    expect(res.code).toBe(2);
  }
});

describe('a whole run, its id and its output folder', () => {
  const runId = `bakery-${process.pid}`;

  it('exit code 0: completed; the same id is then refused unless --reuse-id', async () => {
    const res = await runCli(['run', GOAL, '--run-id', runId], env);
    expect(res.code).toBe(0);
    expect(readdirSync(path.join(home, 'output', runId))).toContain('index.html');

    const again = await runCli(['run', GOAL, '--run-id', runId], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`A run with id ${runId} already exists (finished)`);
    expect(again.stderr).toContain('--reuse-id');

    const out = path.join(work, 'reused');
    const reused = await runCli(['run', GOAL, '--run-id', runId, '--reuse-id', '--out', out], env);
    expect(reused.code).toBe(0);
    expect(readdirSync(out)).toContain('index.html');
  });

  it("never overwrites a person's files: non-empty folder, empty --out, a file as --out", async () => {
    const mine = path.join(work, 'mine');
    mkdirSync(path.join(mine, 'content'), { recursive: true });
    writeFileSync(path.join(mine, 'index.html'), 'my own page');
    writeFileSync(path.join(mine, 'content', 'copy.md'), 'my own copy');

    const refused = await runCli(['result', runId, '--out', mine], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${mine} already has files (content/copy.md, index.html)`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(path.join(mine, 'index.html'), 'utf8')).toBe('my own page');

    const empty = await runCli(['result', runId, '--out', ''], { ...env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--out is empty');

    const file = await runCli(['result', runId, '--out', path.join(mine, 'index.html')], env);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('is a file; --out takes a folder');

    // The run's own folder again: the same files, so nothing is refused.
    const again = await runCli(['result', runId], env);
    expect(again.code).toBe(0);

    const forced = await runCli(['result', runId, '--out', mine, '--force'], env);
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(mine, 'index.html'), 'utf8')).toMatch(/<html/i);
  });

  it('list shows cost and duration columns', async () => {
    const res = await runCli(['list', '--limit', '50'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/RUN ID +PHASE +STARTED +TOOK +COST +SUB-RUNS +GOAL/);
    expect(res.stdout).toMatch(
      new RegExp(`${runId} +completed +\\S+Z +\\d+s +\\$\\d+\\.\\d{4} +- +Build a landing page`),
    );
  });

  it('`maestro temporal` runs the provisioned Temporal CLI against the configured server', async () => {
    const res = await runCli(['temporal', 'workflow', 'describe', '--workflow-id', runId, '-o', 'json'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(runId);
    expect(res.stdout).toContain('orchestratorWorkflow');
  });
});

describe('exit code 3 and partial results', () => {
  it('a run stopped at its budget exits 3, and so does `maestro result`; the cap is shown at the gate', async () => {
    const runId = `budget-${process.pid}`;
    const res = await runCli(['run', GOAL, '--run-id', runId, '--budget-usd', '0.002', '--yes'], env);
    expect(res.stderr).toMatch(/Spent so far: \$\d\.\d{4} of the \$0\.0020 budget/);
    expect(res.code).toBe(3);
    const result = await runCli(['result', runId], env);
    expect(result.stdout).toContain('Result: stopped');
    expect(result.code).toBe(3);
  });

  it('a cancelled run: `result` assembles what was accepted, says what is missing, exits 1', async () => {
    const started = await runCli(['start', GOAL, '--final-approval', 'manual'], env);
    expect(started.code).toBe(0);
    const runId = started.stdout.trim();
    await untilGate(runId, 'final');
    expect((await runCli(['cancel', runId], env)).code).toBe(0);
    for (let i = 0; i < 40 && (await statusJson(runId)).phase !== 'cancelled'; i++)
      await new Promise((r) => setTimeout(r, 250));
    const out = path.join(work, 'cancelled');
    const res = await runCli(['result', runId, '--out', out], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`Run ${runId} was cancelled`);
    expect(res.stderr).toMatch(
      /Assembled what was accepted before it ended: tickets T1, T2, T3, T4 — \d+ file\(s\) in /,
    );
    expect(res.stderr).toContain('Every ticket had been accepted; missing is only the final report.');
    expect(readdirSync(out)).toContain('index.html');
  });
});

describe('messages that say what happened', () => {
  it('the plan gate lists the tickets; after a rejection the CLI says who rejected it; comments are escaped', async () => {
    const runId = `replan-${process.pid}`;
    const running = runCli(['run', GOAL, '--run-id', runId, '--plan-approval', 'manual'], env);
    await untilGate(runId, 'plan');
    const reject = await runCli(
      ['reject', runId, '--gate', 'plan', '--by', 'ana', '--comment', `split it${ESC}[2J`],
      env,
    );
    expect(reject.code).toBe(0);
    await untilGate(runId, 'plan');
    expect((await runCli(['approve', runId, '--by', 'ana'], env)).code).toBe(0);
    const res = await running;
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/Plan \(\d+ tickets\)/);
    expect(res.stderr).toMatch(/ {4}T1 +designer +\S/);
    expect(res.stderr).toMatch(/T3 +coder +.*\(after T1, T2\)/);
    expect(res.stderr).toContain('Re-planning (attempt 2): the plan was rejected by ana — "split it\\x1b[2J"');
    expect(res.stderr).not.toContain('the previous plan was invalid');

    const status = await runCli(['status', runId], env);
    expect(status.stdout).toContain('split it\\x1b[2J');
    expect(status.stdout).not.toContain(ESC);
  });

  it('approve does not hang when no worker runs: it says what to start, within seconds, exit 1', async () => {
    const lonely = { ...env, MAESTRO_TASK_QUEUE: uniqueQueue('no-worker') };
    const started = await runCli(['start', `${GOAL} [sim:tickets=150]`, '--plan-approval', 'manual'], lonely);
    expect(started.code).toBe(0);
    expect(started.stderr).toContain('Note: [sim:tickets=150] is capped to 100: a plan has 1 to 100 tickets');
    const t0 = Date.now();
    const res = await runCli(['approve', started.stdout.trim(), '--gate', 'plan'], lonely, 30_000);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('No worker is running for task queue');
    expect(res.stderr).toContain('Start `maestro dev` (or `maestro worker`) and decide again');
    await runCli(['cancel', started.stdout.trim()], lonely);
  });
});
