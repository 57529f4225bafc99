/**
 * What a person sees while model calls are slow or hang (issue 23, items 1.3 and 1.4): the Boss's
 * plan call stalls mid-stream, so `maestro run` prints the retry and its reason as it happens
 * (not minutes later, when the run fails); a ticket's answer streams slowly, so `maestro watch`
 * (piped) prints its live progress, tokens so far and tokens per second. The built CLI against the
 * suite's Temporal server and a simulated LLM over HTTP with injected faults.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';

jest.setTimeout(240_000);

let sim: SimLlm;
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
});
afterAll(async () => {
  await sim?.close();
});

it('`maestro run` shows a retry of the plan with its reason; `maestro watch` shows tokens and tok/s live', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-stream-cli-'));
  const env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue('stream-cli'),
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: path.join(dir, '.maestro'),
    MAESTRO_LLM_IDLE_TIMEOUT_MS: '1000',
  });
  sim.injectFault({ kind: 'stall', match: { schemaName: SCHEMA_NAMES.plan } });
  sim.injectFault({ kind: 'slow-stream', latencyMs: 8_000, match: { schemaName: SCHEMA_NAMES.work, ticketId: 'T1' } });

  const run = spawn(process.execPath, [CLI, 'run', 'Write one short note about green tea [sim:tickets=1]', '--yes'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let runOut = '';
  run.stdout.on('data', (d: Buffer) => (runOut += d.toString()));
  run.stderr.on('data', (d: Buffer) => (runOut += d.toString()));
  const runEnded = new Promise<number | null>((resolve) => run.on('close', resolve));

  // Watch from a second process as soon as the run has an id.
  const deadline = Date.now() + 120_000;
  let runId: string | undefined;
  while (!runId && Date.now() < deadline) {
    runId = /Run (maestro-\S+) started/.exec(runOut)?.[1];
    if (!runId) await new Promise((r) => setTimeout(r, 200));
  }
  expect(runId).toBeDefined();
  const watch = await runCli(['watch', runId!, '--interval', '300'], env, 180_000);
  const code = await runEnded;

  // The retry, as it happened: the plan's second attempt and why, the model's words escaped.
  expect(runOut).toMatch(/plan: attempt 2( of \d+)? after: .*the LLM server sent no token for 1 s/);
  const retryAt = runOut.search(/plan: attempt 2/);
  expect(retryAt).toBeLessThan(runOut.search(/Plan ready/));
  expect(code).toBe(0);
  // Live progress of the slow answer: tokens so far and their rate.
  expect(watch.stdout).toMatch(/T1 \[\w+\] model: \d+(\.\d+k)? tokens, \d+(\.\d+)? tok\/s/);
  expect(watch.code).toBe(0);
  expect(sim.requests().filter((r) => r.fault === 'stall')).toHaveLength(1);
});
