/**
 * `runExecutor` against the real machine, outside Temporal: a stand-in CLI (test/fixtures/executor)
 * runs in the real sandbox, reaches the gateway only through the bridge and the forwarder, and
 * writes files in the ticket's space. Its failures are judged from evidence, not its exit code:
 * an `[API Error:` result with exit 0, a run that changed nothing, a CLI that never exits (killed
 * with every child at the wall clock or on cancellation), a budget that runs out mid-CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import type { ActivityDeps } from '../../src/activities/deps';
import { createExecutorActivities } from '../../src/activities/executor/executor-activity';
import { startSimLlm } from '../../src/dev/sim-llm';
import type { SimLlm } from '../../src/dev/sim-llm/types';
import { FailureType } from '../../src/shared/errors';
import type { ExecutorSettings } from '../../src/shared/executor';
import type { RoleDefinition } from '../../src/shared/roles';
import type { Ticket } from '../../src/shared/schemas';
import { stubGateway, type StubGatewayLog } from '../helpers/stub-gateway';

const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');

let dir: string;
let sim: SimLlm;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-test-'));
  sim = await startSimLlm();
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const ticket: Ticket = {
  id: 'T1',
  title: 'Write the opening hours page',
  role: 'coder',
  spec: 'Create out.txt with the opening hours.',
  acceptanceCriteria: ['out.txt exists'],
  dependsOn: [],
};

function setup(mode: string, executor: Partial<ExecutorSettings> = {}, tcpOnly = false) {
  const log: StubGatewayLog = { requests: [], started: [], refused: 0, tcpOnly };
  const store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const role: RoleDefinition = {
    name: 'coder',
    description: 'codes',
    systemPrompt: 'You are the Coder on a small team.',
    model: 'sim-model',
    executor: { agent: 'custom', wallMs: 20_000, ...executor },
    executorCommand: { command: 'node', args: [FAKE_CLI, ...mode.split(' ')] },
  };
  const deps = {
    llm: { call: () => Promise.reject(new Error('unused')) },
    store,
    roles: [role],
    bossSystemPrompt: '',
    bossModel: 'sim-model',
    workerModel: () => 'sim-model',
    reviewExcerptChars: 1000,
    sandboxHide: [path.join(dir, 'artifacts')],
    executor: {
      startGateway: stubGateway(log),
      llm: { baseUrl: sim.baseUrl, timeoutMs: 30_000 },
      workspaceParent: path.join(dir, 'ws'),
    },
  } satisfies ActivityDeps;
  const { runExecutor } = createExecutorActivities(deps);
  return { log, store, runExecutor };
}

const input = { runId: 'r1', ticket, dependencies: [], attempt: 1 };

/** The failure a promise rejects with, as an ApplicationFailure. */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const callsOf = (f: ApplicationFailure) => (f.details?.[0] as { calls: unknown[] }).calls;

/** Processes whose command line mentions `needle` (other than this test's own). */
function processesWith(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

test('the CLI writes a file in the space through the gateway; result, bill and prompt are right', async () => {
  const { log, store, runExecutor } = setup('work');
  const out = await runExecutor(input);
  expect(out.artifacts.map((a) => a.path)).toEqual(['out.txt']);
  expect((await store.read(out.artifacts[0]!)).toString()).toMatch(/^answer: 200 \d+/);
  expect(out.summary).toContain('Wrote out.txt');
  expect(out.calls).toHaveLength(1);
  expect(out.calls[0]).toMatchObject({ kind: 'work', role: 'coder', ticketId: 'T1', attempt: 1 });
  expect(out.executor).toMatchObject({ agent: 'custom', turns: 1, lastTool: 'Write', exitCode: 0 });
  expect(log.requests).toHaveLength(1);
  expect(log.started[0]).toMatchObject({ model: 'sim-model', permits: 40, wallMs: 20_000 });
  for (const r of log.requests) expect(r).not.toContain('GOAL-TEXT');
}, 60_000);

test('a gateway that listens only on TCP is reached through the bridge', async () => {
  const { log, runExecutor } = setup('work', {}, true);
  const out = await runExecutor(input);
  expect(out.artifacts.map((a) => a.path)).toEqual(['out.txt']);
  expect(log.requests).toHaveLength(1);
}, 60_000);

test('exit 0 with an [API Error: result is a failed attempt with the reason, its calls billed', async () => {
  const { runExecutor } = setup('api-error');
  const f = await failureOf(runExecutor(input));
  expect(f.type).toBe(FailureType.ExecutorFailed);
  expect(f.message).toMatch(/API Error: 500/);
  expect(callsOf(f)).toHaveLength(1);
}, 60_000);

test('a CLI that changes nothing failed, whatever it says', async () => {
  const { runExecutor } = setup('nothing');
  const f = await failureOf(runExecutor(input));
  expect(f.message).toMatch(/changed no file/);
}, 60_000);

test('a CLI that never exits is killed at the wall clock with every child', async () => {
  const { runExecutor } = setup('spawn-children', { wallMs: 3000 });
  const started = Date.now();
  const f = await failureOf(runExecutor(input));
  expect(f.message).toMatch(/time limit of 3000 ms/);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(processesWith('sleep 1000')).toEqual([]);
}, 60_000);

test('a budget that runs out mid-CLI stops it: PermitsUsedUp with exactly the permitted calls billed', async () => {
  const { log, runExecutor } = setup('loop');
  const f = await failureOf(runExecutor({ ...input, callPermits: 3 }));
  expect(f.type).toBe(FailureType.PermitsUsedUp);
  expect(callsOf(f)).toHaveLength(3);
  expect(log.requests).toHaveLength(3);
  expect(log.refused).toBeGreaterThanOrEqual(1);
}, 60_000);

test('a custom command that is not installed is refused clearly before anything runs', async () => {
  const { runExecutor, log } = setup('work');
  const { runExecutor: missing } = createExecutorActivities({
    ...({} as ActivityDeps),
    store: new FsArtifactStore(path.join(dir, 'artifacts')),
    roles: [
      {
        name: 'coder',
        description: 'x',
        systemPrompt: 'x',
        executor: { agent: 'custom' },
        executorCommand: { command: 'no-such-agent-cli', args: [] },
      },
    ],
    workerModel: () => 'm',
    executor: { startGateway: stubGateway(log), llm: { timeoutMs: 1000 } },
  });
  const f = await failureOf(missing(input));
  expect(f.type).toBe(FailureType.BadInput);
  expect(f.message).toMatch(/no-such-agent-cli.*not installed/);
  expect(runExecutor).toBeDefined();
});

test("the simulator answers a CLI's Write tool with the ticket's deliverables, then a summary", async () => {
  const { log, store, runExecutor } = setup('agent');
  const out = await runExecutor({
    ...input,
    ticket: { ...ticket, spec: 'Write the opening hours. Deliver these files: `hours.md`, `data/hours.json`.' },
  });
  expect(out.artifacts.map((a) => a.path).sort()).toEqual(['data/hours.json', 'hours.md']);
  expect((await store.read(out.artifacts[0]!)).length).toBeGreaterThan(20);
  expect(out.summary).toMatch(/^T1 \(coder\): delivered/);
  expect(out.calls).toHaveLength(2);
  expect(log.requests).toHaveLength(2);
  expect(
    sim
      .requests()
      .slice(-2)
      .map((r) => r.ticketId),
  ).toEqual(['T1', 'T1']);
}, 60_000);

test("a revision edits the previous attempt's files in place and keeps the ones it did not touch", async () => {
  const { store, runExecutor } = setup('agent');
  const spec = 'Write the opening hours. Deliver these files: `hours.md`.';
  const kept = await store.put({ path: 'notes/kept.md', content: 'from attempt 1\n' });
  const old = await store.put({ path: 'hours.md', content: 'old hours\n' });
  const out = await runExecutor({
    ...input,
    attempt: 2,
    previous: [old, kept],
    feedback: 'Give the hours per weekday.',
    ticket: { ...ticket, spec },
  });
  const byPath = new Map(out.artifacts.map((a) => [a.path, a]));
  expect([...byPath.keys()].sort()).toEqual(['hours.md', 'notes/kept.md']);
  expect(byPath.get('hours.md')!.sha256).not.toBe(old.sha256);
  expect(byPath.get('notes/kept.md')).toEqual(kept);
}, 60_000);

test("a CLI that links the control folder's files to a host file reads back nothing of it", async () => {
  const secret = path.join(dir, 'host-secret.txt');
  writeFileSync(secret, '{"code":0,"signal":null}\nHOST-SECRET-LINE\n');
  for (const code of [0, 3]) {
    const { store, runExecutor } = setup(`link-ctl ${secret} ${code}`);
    const got = await runExecutor(input).then(
      async (out) => [out.summary, (await store.read(out.executor.transcript!)).toString()].join('\n'),
      (e: Error) => e.message,
    );
    expect(got).not.toContain('HOST-SECRET');
  }
}, 60_000);

test('a CLI that turns the control files into fifos does not block the worker', async () => {
  // The forwarder blocks on the fifo it writes the exit status to: the wall clock ends the sandbox,
  // and the worker, which never opens a fifo, fails the attempt.
  const { runExecutor } = setup('fifo-ctl', { wallMs: 3000 });
  const f = await failureOf(runExecutor(input));
  expect(f.type).toBe(FailureType.ExecutorFailed);
}, 30_000);

test('files whose names are not workspace paths are skipped, the rest kept', async () => {
  const { runExecutor } = setup('odd-names');
  const out = await runExecutor(input);
  expect(out.artifacts.map((a) => a.path)).toEqual(['out.txt']);
}, 30_000);

test('a flooding, malformed event stream is read in bounded time and memory, never trusted beyond its own lines', async () => {
  const { runExecutor } = setup('flood');
  const started = Date.now();
  const out = await runExecutor(input);
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(out.summary).toBe('Wrote out.txt');
  expect(out.executor).toMatchObject({ turns: 500_001, toolCalls: 501_000, lastTool: 'Bash' });
}, 30_000);

test('a CLI that forges its exit status and kills the forwarder failed: the sandbox saw the forwarder die', async () => {
  const { runExecutor } = setup('forge-exit');
  const f = await failureOf(runExecutor(input));
  expect(f.type).toBe(FailureType.ExecutorFailed);
  expect(f.message).toMatch(/stopped by the sandbox/);
}, 30_000);

test('a CLI that swaps its space for a link to / fails its attempt; no file of the worker is read back', async () => {
  const { runExecutor } = setup('space-swap');
  const f = await failureOf(runExecutor(input));
  expect(f.type).toBe(FailureType.ExecutorFailed);
  expect(f.message).toMatch(/replaced its space/);
  expect(callsOf(f)).toEqual([]);
}, 60_000);
