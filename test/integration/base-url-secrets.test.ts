/**
 * Credentials inside OPENAI_BASE_URL (`user:pass@`, `?api-key=`, `token=`, `sig=`) never leave the
 * process that holds them: not in the worker identity every history event stores (and the sticky
 * queue named after it), not in an LLM call's failure, not in `maestro doctor`'s output.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { runCli } from '../helpers/cli';
import { testAddress } from '../helpers/temporal';
import { simProcessEnv, spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const run = promisify(execFile);
const SECRETS = ['hunter2-pass', 'KEY-1a2b3c', 'TOK-4d5e6f', 'SIG-7a8b9c'];

let sim: SimLlm;
let worker: WorkerProcess | undefined;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  const url = new URL(sim.baseUrl);
  const secretUrl = `http://maestro:hunter2-pass@${url.host}/v1?api-key=KEY-1a2b3c&token=TOK-4d5e6f&sig=SIG-7a8b9c`;
  env = simProcessEnv(sim.baseUrl, 'base-url-secrets', { OPENAI_BASE_URL: secretUrl, MAESTRO_LOG_LEVEL: 'ERROR' });
  worker = await spawnWorker(env);
});
afterAll(async () => {
  await worker?.kill();
  await sim?.close();
});

async function temporalJson(args: string[]): Promise<string> {
  const { stdout } = await run(
    process.env.TEMPORAL_CLI_PATH!,
    [...args, '--address', testAddress(), '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

it('the history of a run (identities, sticky queue, LLM call failures) holds none of the URL credentials', async () => {
  const runId = `base-url-secrets-${Date.now().toString(36)}`;
  const started = await runCli(['start', 'Build a landing page for a tea house', '--run-id', runId], env, 60_000);
  expect(started.code).toBe(0);
  // Wait until the planning call has failed at least once (the URL with credentials cannot be fetched).
  let described = '';
  for (let i = 0; i < 120; i++) {
    described = await temporalJson(['workflow', 'describe', '--workflow-id', runId]);
    if (described.includes('lastFailure')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(described).toContain('lastFailure');
  const history = await temporalJson(['workflow', 'show', '--workflow-id', runId]);
  expect(history).toContain('maestro[llm=');
  expect(history).toContain('127.0.0.1');
  await runCli(['cancel', runId], env, 60_000);
  expect({ history: leaks(history), describe: leaks(described) }).toEqual({ history: [], describe: [] });
  expect(described).toContain('***');
});

it('maestro doctor shows the endpoint without its credentials', async () => {
  const doctor = await runCli(['doctor', '--json'], env, 60_000);
  expect(doctor.stdout).toContain('127.0.0.1');
  expect(leaks(doctor.stdout + doctor.stderr)).toEqual([]);
});
