/**
 * What the repo-run end-to-end tests share: a simulated LLM, `maestro worker` processes whose
 * coder is an agent with the built-in tools (its `run_command` may start the fixtures' toolchains),
 * `maestro run --repo` as a live subprocess (its run id is known while it runs, so a test can kill
 * a worker mid-run), and readers of what a user sees in their repository: the state of their
 * checkout, the commits and trailers of the delivered branch, a clone of it to test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { workflowPollers } from '../../src/client/pollers';
import { gitText } from '../../src/activities/repo/git';
import type { SimLlm, SimRequestRecord } from '../../src/dev/sim-llm';
import { CLI, cleanEnv, type CliResult } from './cli';
import { testAddress, uniqueQueue } from './temporal';
import type { WorkerProcess } from './worker-process';
import { useCrashHarness } from './paid-calls';

/** The team of the repo runs: the coder works as an agent with tools and may run the fixtures' toolchains. */
export const REPO_TEAM = {
  roles: [
    {
      name: 'coder',
      tools: ['read_file', 'list_files', 'write_file', 'run_command'],
      programs: ['go', 'python3', 'pytest', 'node', 'npm'],
      maxTurns: 12,
      sandbox: { timeoutMs: 480_000, memoryMb: 4096, maxProcesses: 512 },
    },
    { name: 'designer' },
    { name: 'writer' },
    { name: 'tester' },
  ],
};

/** A harness of one test file: the simulated LLM, a task queue, workers, and the client settings. */
export interface RepoRunHarness {
  sim: SimLlm;
  client: Client;
  queue: string;
  /** Starts a worker (SIGKILLed after the file's tests at the latest). */
  worker: () => Promise<WorkerProcess>;
  /** The environment of `maestro run` (the workers' MAESTRO_HOME: they share the artifact store). */
  clientEnv: () => NodeJS.ProcessEnv;
}

/**
 * Sets the harness up before the file's tests (with one worker running) and tears it down after;
 * `team` replaces REPO_TEAM as the config, `workerEnv` adds to the workers' environment.
 */
export function useRepoRunHarness(
  name: string,
  opts: { team?: object; workerEnv?: NodeJS.ProcessEnv } = {},
): RepoRunHarness {
  // The crash tests' harness: simulated LLM, client, workers killed after the file's tests.
  const crash = useCrashHarness();
  const base = mkdtempSync(path.join(os.tmpdir(), `maestro-${name}-`));
  const config = path.join(base, 'maestro.config.json');
  // One MAESTRO_HOME for the client and its workers: the client packs the repository into the
  // artifact store the workers read (workers elsewhere would share it through a volume).
  const home = path.join(base, 'home');
  writeFileSync(config, JSON.stringify(opts.team ?? REPO_TEAM, null, 2));
  const queue = uniqueQueue(name);
  const common = () => ({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: queue,
    MAESTRO_CONFIG: config,
    MAESTRO_TRUST_CONFIG: config,
  });
  return {
    get sim() {
      return crash.sim;
    },
    get client() {
      return crash.client;
    },
    queue,
    worker: async () => {
      const w = await crash.worker({
        ...common(),
        OPENAI_BASE_URL: crash.sim.baseUrl,
        OPENAI_API_KEY: 'sim',
        MAESTRO_MODEL: 'maestro-sim',
        MAESTRO_HOME: home,
        ...opts.workerEnv,
      });
      for (let i = 0; i < 200 && (await workflowPollers(crash.client, queue)).length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      return w;
    },
    clientEnv: () => cleanEnv({ ...common(), MAESTRO_HOME: home }),
  };
}

/** A `maestro` CLI process still running: its output so far, its run id once printed, its end. */
export interface LiveCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** The run id (`Run <id> started`), once the CLI has printed it. */
  runId: () => Promise<string>;
  done: Promise<CliResult>;
}

/** Starts `node dist/client/cli.js ...args` and returns at once. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 900_000): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`maestro ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const runId = async () => {
    for (;;) {
      const id = /Run (maestro-[\w-]+) started/.exec(stderr)?.[1] ?? /Run (maestro-[\w-]+)/.exec(stdout)?.[1];
      if (id) return id;
      if (child.exitCode !== null) throw new Error(`the CLI ended without a run id:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, stdout: () => stdout, stderr: () => stderr, runId, done };
}

/** What a user would notice of their checkout: HEAD, branch, status, index bytes, stashes, branches. */
export async function checkoutState(dir: string) {
  const index = createHash('sha256')
    .update(readFileSync(path.join(dir, '.git', 'index')))
    .digest('hex');
  return {
    head: await gitText(['rev-parse', 'HEAD'], { cwd: dir }),
    branch: await gitText(['symbolic-ref', '-q', 'HEAD'], { cwd: dir }),
    status: await gitText(['status', '--porcelain', '--untracked-files=all'], { cwd: dir }),
    index,
    stash: await gitText(['stash', 'list'], { cwd: dir }),
  };
}

/** One commit of the delivered branch. */
export interface BranchCommit {
  sha: string;
  subject: string;
  body: string;
  trailers: Record<string, string[]>;
  files: string[];
}

/** The commits `base..branch`, oldest first, with their trailers and changed files. */
export async function branchCommits(dir: string, base: string, branch: string): Promise<BranchCommit[]> {
  const shas = (await gitText(['rev-list', '--reverse', `${base}..${branch}`], { cwd: dir }))
    .split('\n')
    .filter(Boolean);
  const out: BranchCommit[] = [];
  for (const sha of shas) {
    const body = await gitText(['log', '-1', '--format=%B', sha], { cwd: dir });
    const trailers: Record<string, string[]> = {};
    for (const m of body.matchAll(/^(Maestro-[A-Za-z]+): (.+)$/gm)) (trailers[m[1]!] ??= []).push(m[2]!.trim());
    const files = (await gitText(['show', '--format=', '--name-only', sha], { cwd: dir })).split('\n').filter(Boolean);
    out.push({ sha, subject: body.split('\n')[0] ?? '', body, trailers, files });
  }
  return out;
}

/** A clone of the delivered branch in a temporary folder (the user's repository is only read). */
export async function cloneBranch(dir: string, branch: string): Promise<string> {
  const to = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-branch-')), 'checkout');
  await gitText(['clone', '-q', '--no-hardlinks', '--branch', branch, dir, to]);
  return to;
}

/** The user prompt of a logged request (the last user message). */
export function userText(r: SimRequestRecord): string {
  return [...r.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

/** The tool results of a logged request. */
export function toolResults(r: SimRequestRecord): string[] {
  return r.messages.filter((m) => m.role === 'tool').map((m) => m.content);
}

/** The ticket a worker request is about (the sim records it from `# Ticket Tn:`). */
export function workerRequests(log: SimRequestRecord[], ticketId?: string): SimRequestRecord[] {
  return log.filter((r) => /^# Ticket T\d+/m.test(userText(r)) && (!ticketId || r.ticketId === ticketId));
}

/** Waits until `predicate` holds (polling), or fails saying what it waited for. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
