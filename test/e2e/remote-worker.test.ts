/**
 * `maestro run` and `maestro result` against a worker that is another process with its own
 * MAESTRO_HOME and its own LLM (like the docker-compose worker, or `maestro dev` started in
 * another folder): the caller is told which worker and settings run its goal, a caller that
 * brings other LLM settings gets them honoured (private task queue), and the produced files
 * reach the caller's output folder although the two share no disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { workflowPollers } from '../../src/client/pollers';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { artifactRoot } from '../../src/workers/activity-deps';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const GOAL = 'Build a landing page for a coffee shop called Bean There [sim:tickets=2]';

let simA: SimLlm; // the running worker's LLM
let simB: SimLlm; // another LLM a caller may bring
let worker: WorkerProcess;
const queue = uniqueQueue('remote');
const homes: string[] = [];
const newHome = () => {
  const h = mkdtempSync(path.join(os.tmpdir(), 'maestro-remote-'));
  homes.push(h);
  return h;
};
const workerHome = newHome();
const llm = (sim: SimLlm) => ({ OPENAI_BASE_URL: sim.baseUrl, OPENAI_API_KEY: 'sim', MAESTRO_MODEL: 'maestro-sim' });

beforeAll(async () => {
  simA = await startSimLlm({ port: 0 });
  simB = await startSimLlm({ port: 0 });
  worker = await spawnWorker({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: queue,
    MAESTRO_HOME: workerHome,
    ...llm(simA),
  });
  // `maestro run` decides by the pollers Temporal lists: wait until it lists this worker.
  const connection = await Connection.connect({ address: testAddress() });
  try {
    const client = new Client({ connection });
    for (let i = 0; i < 200 && (await workflowPollers(client, queue)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
  } finally {
    await connection.close();
  }
});

afterAll(async () => {
  await worker?.kill();
  await simA?.close();
  await simB?.close();
  homes.forEach((h) => rmSync(h, { recursive: true, force: true }));
});

beforeEach(() => {
  simA.clearRequests();
  simB.clearRequests();
});

function clientEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({ TEMPORAL_ADDRESS: testAddress(), MAESTRO_TASK_QUEUE: queue, MAESTRO_HOME: home, ...extra });
}

function runIdOf(r: CliResult): string {
  const id = /Run (maestro-[\w-]+) started/.exec(r.stderr)?.[1];
  if (!id) throw new Error(`no run id in:\n${r.stderr}\n${r.stdout}`);
  return id;
}

/** The files `maestro run` listed under "Files (N) assembled in: DIR", checked to exist. */
function assembledFiles(r: CliResult): { dir: string; files: string[] } {
  const m = /Files \((\d+)\) (?:assembled )?in: (.+)/.exec(r.stdout);
  if (!m?.[2]) throw new Error(`no files line in:\n${r.stdout}\n${r.stderr}`);
  const dir = m[2].trim();
  const files = r.stdout
    .slice(r.stdout.indexOf(m[0]) + m[0].length)
    .split('\n')
    .filter((l) => l.startsWith('  ') && !l.includes('Web UI'))
    .map((l) => l.trim());
  return { dir, files };
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const inWorkerStore = (hash: string) =>
  existsSync(path.join(artifactRoot(workerHome), 'blobs', hash.slice(0, 2), hash));

describe('a run handed to a worker on another disk', () => {
  let runId = '';

  it('same LLM settings: says which worker runs it, and fetches the files from that worker', async () => {
    const home = newHome();
    const r = await runCli(['run', GOAL, '--yes'], clientEnv(home, llm(simA)));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `already polling task queue ${queue}, which use your LLM settings \\(openai ${simA.baseUrl}, boss maestro-sim, workers maestro-sim\\): ${worker.child.pid}@`,
      ),
    );
    expect(r.stderr).toContain(`home=${workerHome}`);
    expect(r.stderr).toMatch(/Fetching \d+ file\(s\) of run .* through Temporal/);
    runId = runIdOf(r);
    const { dir, files } = assembledFiles(r);
    expect(dir).toBe(path.join(home, 'output', runId));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(inWorkerStore(sha(path.join(dir, f)))).toBe(true);
    expect(simA.requests().length).toBeGreaterThan(0);
    expect(simB.requests()).toHaveLength(0);
  });

  it('maestro result from yet another MAESTRO_HOME assembles the same files', async () => {
    expect(runId).not.toBe('');
    const home = newHome();
    const r = await runCli(['result', runId], clientEnv(home, llm(simA)));
    expect(r.code).toBe(0);
    const m = /Files \((\d+)\) in: (.+)/.exec(r.stdout);
    expect(m?.[2]?.trim()).toBe(path.join(home, 'output', runId));
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(existsSync(path.join(home, 'output', runId))).toBe(true);
  });

  it('no LLM settings in the caller: the running worker runs it, and the caller is told whose settings', async () => {
    const r = await runCli(['run', GOAL, '--yes'], clientEnv(newHome()));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`your environment sets no LLM provider, so the run goes to the worker\\(s\\) already polling`),
    );
    expect(r.stderr).toContain(`THEIR LLM settings and MAESTRO_HOME: ${worker.child.pid}@`);
    expect(r.stderr).toContain(`openai ${simA.baseUrl}`);
    expect(r.stdout).not.toContain('(Simulated LLM'); // the worker's provider answered, not this command's
    expect(simA.requests().length).toBeGreaterThan(0);
    expect(assembledFiles(r).files.length).toBeGreaterThan(0);
  });

  it('other LLM settings in the caller: the run uses them, on a private queue, and says so', async () => {
    const home = newHome();
    const r = await runCli(['run', GOAL, '--yes'], clientEnv(home, llm(simB)));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/use other LLM settings than yours: \d+@.*maestro\[llm=[0-9a-f]{12}; openai http/);
    const privateQueue = new RegExp(`on its own task queue (${queue}-run-[0-9a-f]{8})`).exec(r.stderr)?.[1];
    expect(privateQueue).toBeDefined();
    expect(r.stderr).toContain(`(task queue ${privateQueue})`);
    expect(simB.requests().length).toBeGreaterThan(0);
    expect(simA.requests()).toHaveLength(0);
    expect(r.stderr).not.toMatch(/Fetching/);
    const { dir, files } = assembledFiles(r);
    expect(dir).toBe(path.join(home, 'output', runIdOf(r)));
    expect(files.length).toBeGreaterThan(0);
  });

  it('maestro start names the worker that will run the run', async () => {
    const r = await runCli(['start', GOAL], clientEnv(newHome()));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^maestro-[\w-]+$/);
    expect(r.stderr).toContain(`The run goes to the worker(s) polling task queue ${queue}: ${worker.child.pid}@`);
    expect(r.stderr).toContain('(other LLM settings than yours)');
  });
});
