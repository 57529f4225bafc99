/**
 * The scripts in examples/ run as a user runs them (`tsx examples/<name>.ts`, importing the
 * built package by its name) against the suite's Temporal server, a `maestro worker` process and
 * the simulated LLM. Their output is saved under test-artifacts/examples/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useSimAndTemporal } from '../helpers/temporal';
import { simProcessEnv, spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const REPO = path.resolve(__dirname, '..', '..');
const OUT = path.join(REPO, 'test-artifacts', 'examples');
const TSX = require.resolve('tsx/cli');

const env = useSimAndTemporal({ port: 0, latencyMs: 100 });
let worker: WorkerProcess;
let processEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  processEnv = simProcessEnv(env.sim.baseUrl, 'examples');
  worker = await spawnWorker(processEnv);
  mkdirSync(OUT, { recursive: true });
});
afterAll(async () => {
  await worker?.kill();
});

/** Runs `tsx examples/<name>.ts ...args` from the repository root; saves what it printed. */
function runExample(
  name: string,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, path.join('examples', `${name}.ts`), ...args], {
      cwd: REPO,
      env: processEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(
        path.join(OUT, `${name}.out.txt`),
        `$ tsx examples/${name}.ts ${args.join(' ')}\n${stdout}${stderr}`,
      );
      resolve({ code, stdout, stderr });
    });
  });
}

it('quickstart: start, follow events, result and files', async () => {
  const r = await runExample('quickstart', ['Build a landing page for a coffee shop called Bean There']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const runId = /^Started (\S+)$/m.exec(r.stdout)?.[1];
  expect(runId).toBeDefined();
  // Phases as polled: the first and the last are always seen (a short phase may fall between polls).
  const phases = [...r.stdout.matchAll(/^phase: (\w+)$/gm)].map((m) => m[1]);
  expect(phases[0]).toBe('planning');
  expect(phases.at(-1)).toBe('completed');
  expect(r.stdout).toMatch(/^ {2}T1 \[designer\] .+: accepted$/m);
  expect(r.stdout).toMatch(/^ended: completed, 4\/4 tickets, \$0\.\d{4}$/m);
  expect(r.stdout).toMatch(/^Result: completed — /m);
  const outDir = path.join(processEnv.MAESTRO_HOME!, 'output', runId!);
  expect(r.stdout).toContain(`Files in ${outDir}:\n`);
  expect(r.stdout).toMatch(/^ {2}index\.html$/m);
  expect(existsSync(path.join(outDir, 'index.html'))).toBe(true);
}, 180_000);

it('reviewer bot: rejects the first plan with a comment, approves the re-plan', async () => {
  const r = await runExample('reviewer-bot', ['Build a landing page for a tea room called Steep']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Plan 1: .+\n {2}T1 \[/m);
  expect(r.stdout).toContain('Rejected plan 1: Name the tea room in the page title and keep the copy under 200 words.');
  expect(r.stdout).toMatch(/^Plan 2: /m);
  expect(r.stdout).toContain('Approved plan 2 (plan#2)');
  expect(r.stdout).toMatch(/^Run ended: completed, \d+\/\d+ tickets accepted$/m);
  expect(r.stdout).toContain("Result: completed; the bot's decisions: reject plan#1, approve plan#2");
  // The Boss re-planned with the bot's comment.
  const plans = env.sim.requests().filter((q) => q.schemaName === 'maestro_plan' && q.status === 200);
  expect(
    plans.some((q) =>
      JSON.stringify(q.messages).includes('Name the tea room in the page title and keep the copy under 200 words.'),
    ),
  ).toBe(true);
}, 180_000);

it('raw @temporalio/client: starts the workflow and approves with the exported definitions', async () => {
  const r = await runExample('raw-temporal', ['Write a short guide to brewing green tea']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^Started raw-\d+$/m);
  expect(r.stdout).toMatch(/^Plan gate plan#1: approve the plan of \d+ tickets/m);
  expect(r.stdout).toContain('plan#1: approved by raw-script');
  expect(r.stdout).toMatch(/^Result: completed, \d+ tickets, \$0\.\d{4}$/m);
}, 180_000);

it('batch: ten runs with a budget each, waited for, and a cost table', async () => {
  const goals = Array.from({ length: 10 }, (_, i) => `Write short guide number ${i + 1} [sim:tickets=1]`);
  const file = path.join(processEnv.MAESTRO_HOME!, 'goals.txt');
  writeFileSync(file, `${goals.join('\n')}\n`);
  const r = await runExample('batch', [file, '--budget-usd', '0.25']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Started 10 runs with a budget of $0.25 each');
  const rows = r.stdout.split('\n').filter((l) => /^maestro-\S+ {2}/.test(l));
  expect(rows).toHaveLength(10);
  const batch = /^(maestro-\d{8}-\d{6}-[0-9a-f]{4})-01 /.exec(rows[0]!)?.[1];
  rows.forEach((row, i) =>
    expect(row).toMatch(
      new RegExp(
        `^${batch}-${String(i + 1).padStart(2, '0')} {2}completed +1/1 +\\d+ +\\$0\\.\\d{4} {2}Write short guide number ${i + 1} `,
      ),
    ),
  );
  expect(r.stdout).toMatch(/^Total: \$0\.\d{4} for 10\/10 finished runs$/m);
}, 240_000);
