/**
 * The package as a user gets it (issue 22, part 2): `npm pack` the built repository, install the
 * tarball into a scratch project outside the repository, type-check a script that uses the public
 * API with strict settings and `skipLibCheck: false`, then run it against the suite's Temporal
 * server with a worker started from the INSTALLED package (its CLI, its workflow bundle) and the
 * simulated LLM. Also `maestro --help` and `maestro run` on the embedded dev server from the
 * installed bin. Timings and outputs go to test-artifacts/consumer-package/.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { startWorkerProcess } from '../../src/dev/worker-process';
import { useSimAndTemporal } from '../helpers/temporal';
import { simProcessEnv } from '../helpers/worker-process';
import { cleanEnv } from '../helpers/cli';

const REPO = path.resolve(__dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'test-artifacts', 'consumer-package');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TSX = require.resolve('tsx/cli');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};

/** What a command printed and how it ended, plus how long it took. */
interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd args` in `cwd` (never throws for a non-zero exit; the test asserts the code). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000) {
  const t0 = Date.now();
  return new Promise<Ran>((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const log: string[] = [];
function note(line: string): void {
  log.push(line);
  process.stderr.write(`[consumer-package] ${line}\n`);
}

const env = useSimAndTemporal({ port: 0, latencyMs: 20 });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'maestro-consumer-'));
const installed = path.join(scratch, 'node_modules', pkg.name);
let packed: { filename: string; files: { path: string }[] };
let worker: ChildProcess | undefined;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // pretest built dist/: pack it as is (no prepare script, which would build again).
  const dest = path.join(scratch, 'pack');
  mkdirSync(dest);
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], REPO);
  expect(pack.stderr.includes('npm error') ? pack.stderr : '').toBe('');
  expect(pack.code).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  note(`npm pack: ${packed.filename}, ${packed.files.length} files, ${pack.ms} ms`);

  writeFileSync(
    path.join(scratch, 'package.json'),
    JSON.stringify({ name: 'maestro-consumer', version: '1.0.0', private: true }, null, 2),
  );
  const typesNode = `@types/node@${pkg.devDependencies['@types/node']}`;
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(dest, packed.filename), typesNode],
    scratch,
  );
  writeFileSync(path.join(ARTIFACTS, 'npm-install.txt'), `${install.stdout}${install.stderr}`);
  note(`npm install --prefer-offline of the tarball (+ ${typesNode}): ${install.ms} ms, exit ${install.code}`);
  expect(install.code).toBe(0);
}, 600_000);

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGTERM');
    const timer = setTimeout(() => worker!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  writeFileSync(path.join(ARTIFACTS, 'timings.txt'), `${log.join('\n')}\n`);
});

it('the tarball holds the built code, the workflow bundle, types and docs, and nothing else', () => {
  const files = packed.files.map((f) => f.path);
  for (const must of [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/wire.js',
    'dist/wire.d.ts',
    'dist/client/cli.js',
    'dist/workflow-bundle.js',
    'dist/workflow-bundle-encoded-failures.js',
    'dist/dev/sim-llm/index.js',
  ])
    expect(files).toContain(must);
  const unwanted = files.filter(
    (f) =>
      !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/.+\.(js|d\.ts))$/.test(f) ||
      /^dist\/(bench|dev\/llama-engine)\//.test(f) ||
      /(^|\/)(test|\.maestro|node_modules|\.env[^/]*|.*\.pem|.*\.key)(\/|$)/.test(f),
  );
  expect(unwanted).toEqual([]);
});

it('the installed CLI answers --help and runs a goal on its embedded dev server', async () => {
  const bin = path.join(scratch, 'node_modules', '.bin', 'maestro');
  const help = await run(bin, ['--help'], scratch);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: maestro \[options\] \[command\]/);
  const version = await run(bin, ['--version'], scratch);
  expect(version.stdout.trim()).toBe(pkg.version);

  // Its own dev server on free ports (the suite's server is another one), the simulated LLM.
  const home = path.join(scratch, 'home-run');
  const port = await freePort();
  const runEnv = cleanEnv({
    MAESTRO_HOME: home,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    MAESTRO_TEMPORAL_PORT: String(port),
    MAESTRO_UI_PORT: String(await freePort()),
    MAESTRO_SIM_LATENCY_MS: '0',
  });
  const res = await run(bin, ['run', 'Build a landing page for a coffee shop called Bean There'], scratch, runEnv);
  writeFileSync(path.join(ARTIFACTS, 'maestro-run.txt'), `${res.stdout}${res.stderr}`);
  note(`maestro run from the installed package: ${res.ms} ms, exit ${res.code}`);
  expect(res.stderr).toContain('Starting the embedded Temporal dev server');
  expect(res.code).toBe(0);
  expect(res.stdout).toContain('Result: completed — 4/4 tickets accepted');
  const outDir = /Files \(\d+\) assembled in: (.+)/.exec(res.stdout)?.[1]?.trim();
  expect(outDir?.startsWith(path.join(home, 'output'))).toBe(true);
  expect(readFileSync(path.join(outDir!, 'index.html'), 'utf8')).toContain('Bean There');
}, 300_000);

it('a strict TypeScript script type-checks against the installed types and runs against a dev server', async () => {
  copyFileSync(
    path.join(REPO, 'test', 'fixtures', 'consumer-package', 'consumer.ts'),
    path.join(scratch, 'consumer.ts'),
  );
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          skipLibCheck: false,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          types: ['node'],
          noEmit: true,
        },
        files: ['consumer.ts'],
      },
      null,
      2,
    ),
  );
  const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--noEmit'], scratch);
  writeFileSync(path.join(ARTIFACTS, 'tsc.txt'), `${tsc.stdout}${tsc.stderr}`);
  note(`tsc --noEmit (strict, skipLibCheck false, nodenext): ${tsc.ms} ms, exit ${tsc.code}`);
  expect(tsc.stdout).toBe('');
  expect(tsc.code).toBe(0);

  // A worker from the installed package: its CLI, its pre-built workflow bundle, its dependencies.
  const processEnv = simProcessEnv(env.sim.baseUrl, 'consumer');
  const started = await startWorkerProcess({
    cliJs: path.join(installed, 'dist', 'client', 'cli.js'),
    env: processEnv,
  });
  worker = started.child;

  const out = path.join(scratch, 'site');
  const cancelledOut = path.join(scratch, 'cancelled-site');
  const script = await run(process.execPath, [TSX, 'consumer.ts', out, cancelledOut], scratch, processEnv, 240_000);
  writeFileSync(path.join(ARTIFACTS, 'consumer-run.txt'), `${script.stdout}${script.stderr}`);
  note(`the consumer script: ${script.ms} ms, exit ${script.code}`);
  expect(script.stderr).toBe('');
  expect(script.code).toBe(0);
  const line = script.stdout.split('\n').find((l) => l.startsWith('SUMMARY '));
  const s = JSON.parse(line!.slice('SUMMARY '.length)) as {
    workflow: string;
    runId: string;
    hint: string;
    approved: { id: string; state: string; by: string };
    again: string;
    status: string;
    tickets: { id: string; state: string; usd: number }[];
    costUsd: number;
    files: string[];
    outDir: string;
    cancelled: { runId: string; status: string; headline: string; accepted: number; files: string[] };
  };
  expect(s.workflow).toBe('orchestratorWorkflow');
  expect(s.hint).toBe(`maestro approve ${s.runId} --gate 'plan#1'`);
  expect(s.approved).toEqual({ id: 'plan#1', state: 'approved', by: 'consumer-script' });
  expect(s.again).toMatch(
    new RegExp(`^GateNotPendingError: Run ${s.runId} refused the decision: gate plan#1 is no longer pending`),
  );
  expect(s.status).toBe('completed');
  expect(s.tickets.map((t) => [t.id, t.state])).toEqual([
    ['T1', 'accepted'],
    ['T2', 'accepted'],
    ['T3', 'accepted'],
    ['T4', 'accepted'],
  ]);
  for (const t of s.tickets) expect(t.usd).toBeGreaterThan(0);
  expect(s.costUsd).toBeGreaterThan(0);
  // The run's total holds every ticket's cost, plus the Boss's plan and final report.
  expect(s.costUsd).toBeGreaterThanOrEqual(s.tickets.reduce((sum, t) => sum + t.usd, 0) - 1e-6);
  expect(s.outDir).toBe(out);
  expect(s.files).toEqual(expect.arrayContaining(['index.html', 'styles.css', 'script.js']));
  expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toContain('Bean There');

  expect(s.cancelled).toMatchObject({
    status: 'cancelled',
    headline: 'Cancelled: 4 of 4 tickets accepted before the run was cancelled',
    accepted: 4,
  });
  expect(s.cancelled.files).toContain('index.html');
  expect(existsSync(path.join(cancelledOut, 'index.html'))).toBe(true);
}, 400_000);
