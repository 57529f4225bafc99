/**
 * What `maestro run` says while the Boss plans again, and what `--json` commands print when a
 * run or a command fails (issue 23, 1.5 and 1.6). Through the real CLI against a `maestro worker`
 * process and the simulated LLM, whose faults time out or cut off the Boss's plan call.
 */
import { runCli } from '../helpers/cli';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { simProcessEnv, spawnWorker } from '../helpers/worker-process';

/** A run's CLI may take minutes on a loaded machine (2 cores shared by many suites). */
const RUN_MS = 280_000;
jest.setTimeout(300_000);

let sim: SimLlm;
let env: NodeJS.ProcessEnv;
let worker: Awaited<ReturnType<typeof spawnWorker>> | undefined;
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  // One-second calls, so five timed-out attempts of the plan call take seconds, not minutes.
  env = simProcessEnv(sim.baseUrl, 'replan', { MAESTRO_LLM_TIMEOUT_MS: '1000' });
  worker = await spawnWorker(env);
});
afterAll(async () => {
  await worker?.kill();
  await sim?.close();
});

const GOAL = 'Write a short note about green tea [sim:tickets=1]';

/** The lines of a run's output from the first that matches `re` on. */
const linesFrom = (out: string, re: RegExp) => {
  const lines = out.split('\n');
  return lines.slice(
    Math.max(
      0,
      lines.findIndex((l) => re.test(l)),
    ),
  );
};

describe('re-planning, as it happens', () => {
  // A fault left over by a test (an attempt the activity's timeout never made) must not leak into the next.
  beforeEach(() => sim.clearFaults());
  it('a timed-out plan: the gate no longer promises a retry, and the re-plan says it timed out', async () => {
    const runId = `replan-timeout-${process.pid}`;
    // Every attempt of the first plan call hangs past the one-second timeout.
    sim.injectFault({ kind: 'hang', times: 5, match: { schemaName: 'maestro_plan' } });
    // The re-plan then takes three seconds: long enough for `maestro run` to see the run planning again.
    sim.injectFault({ kind: 'latency', latencyMs: 3000, match: { schemaName: 'maestro_plan' } });
    const res = await runCli(['run', GOAL, '--yes', '--run-id', runId], env, RUN_MS);
    const out = res.stdout + res.stderr;
    const gate = out.split('\n').find((l) => /Gate plan\S* is waiting: planning failed/.test(l));
    expect(gate).toMatch(/the LLM server sent no answer within 1000 ms.*; gave up after its retries — approve/);
    expect(gate).not.toContain('will retry');
    const replan = out.split('\n').find((l) => l.includes('Re-planning (attempt 2)'));
    expect(replan).toMatch(/Re-planning \(attempt 2\): the Boss's plan call failed: .*no answer within 1000 ms/);
    expect(out).not.toContain('the previous plan was invalid');
    // Printed while the Boss planned again (before its plan was ready), in a run that then completed.
    const stream = res.stderr.includes('Re-planning (attempt 2)') ? res.stderr : res.stdout;
    expect(linesFrom(stream, /Re-planning \(attempt 2\)/).join('\n')).toMatch(/^Plan ready after 2 attempt/m);
    expect(res.code).toBe(0);
  });

  it("a cut-off plan: the advice names the Boss's own setting and no ticket", async () => {
    const runId = `replan-cutoff-${process.pid}`;
    // Cut off twice: Temporal's one retry of a cut-off, then the gate.
    sim.injectFault({ kind: 'truncated', times: 2, match: { schemaName: 'maestro_plan' } });
    const res = await runCli(['run', GOAL, '--yes', '--run-id', runId], env, RUN_MS);
    const out = res.stdout + res.stderr;
    expect(out).toContain('Re-planning (attempt 2)');
    const replan = out.split('\n').find((l) => l.includes('Re-planning (attempt 2)'));
    expect(replan).toContain('cut off at the output-token limit (8192 tokens)');
    expect(replan).toContain('raise the Boss\'s "maxTokens" ("boss": {"maxTokens": ...} in maestro.config.json)');
    expect(replan).not.toMatch(/role boss|ticket/);
    expect(res.code).toBe(0);
  });

  it('invalid plans: each re-plan is printed with its problems before the run fails, and result --json says why', async () => {
    const runId = `replan-invalid-${process.pid}`;
    const res = await runCli(
      [
        'run',
        'Write a short note about green tea [sim:invalid-plan=9]',
        '--yes',
        '--max-replans',
        '1',
        '--run-id',
        runId,
      ],
      env,
      RUN_MS,
    );
    const out = res.stdout + res.stderr;
    expect(res.code).toBe(1);
    const replan = out.split('\n').find((l) => l.includes('Re-planning (attempt 2)'));
    expect(replan).toMatch(/Re-planning \(attempt 2\): the previous plan was invalid: \S/);
    // Before the run's failure, not only in it.
    const failedAt = out.split('\n').findIndex((l) => l.includes('produced no valid plan'));
    expect(out.split('\n').indexOf(replan!)).toBeLessThan(failedAt);

    // `maestro result --json` of a run that failed in planning: JSON on stdout, the same exit code.
    const result = await runCli(['result', runId, '--json'], env);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { runId: string; status: string; error: string; exitCode: number };
    expect(json).toMatchObject({ runId, status: 'failed', exitCode: 1, ticketIds: [], manifest: [] });
    expect(json.error).toContain('produced no valid plan');
  });
});

describe('--json commands print JSON for every outcome', () => {
  it.each([
    [['status', 'no-such-run', '--json'], 2, 'There is no run with id no-such-run'],
    [['result', 'no-such-run', '--json'], 2, 'There is no run with id no-such-run'],
    [['status', 'bad id\u001b[31m', '--json'], 2, 'run id'],
    [['list', '--limit', '0', '--json'], 2, '--limit'],
    [['watch', 'no-such-run', '--json'], 2, 'No run "no-such-run"'],
  ])('maestro %j: {"error", "exitCode"} on stdout, exit %i', async (args, code, says) => {
    const res = await runCli(args, env);
    expect(res.code).toBe(code);
    const lines = res.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1]!) as { error: string; exitCode: number };
    expect(json.exitCode).toBe(code);
    expect(json.error).toContain(says);
    // Escaped like every JSON Maestro prints: no raw ESC reaches the terminal.
    expect(res.stdout).not.toContain('\u001b');
  });
});
