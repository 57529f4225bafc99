/**
 * The merge queue of repo runs on a real Temporal server, with the real `mergeTicket` activity on
 * real git and scripted Boss/worker activities (what each ticket writes is chosen by the test):
 * tickets merge one at a time in acceptance order and only then count as accepted; a conflict
 * re-opens the ticket on the new branch with the hunks, bounded by --max-reopens; a merge that
 * crashed after its work and ran again made no second commit; failing repo tests on the branch
 * re-open the ticket whose commit broke them (found by bisecting), or end the run partial.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { openSnapshot } from '../../src/activities/repo/cache';
import { gitText } from '../../src/activities/repo/git';
import { createMergeActivities } from '../../src/activities/repo/merge';
import type { PerformTicketInput } from '../../src/activities/roles/worker';
import type { MergeTicketInput, RepoSnapshot, RepoTestResult } from '../../src/shared/repo';
import type { Plan, Ticket } from '../../src/shared/schemas';
import type { RunInput, RunResult } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import type { RepoTestsInput } from '../../src/shared/repo';
import { repoPlanProblems } from '../../src/shared/repo-paths';
import { workflowSinks } from '../../src/telemetry/workflow-sinks';
import { makeRepo, packRepo } from '../helpers/repo-git';
import { connectTest, TEST_ROLES, uniqueQueue, type TestConnection } from '../helpers/temporal';

let conn: TestConnection;
beforeAll(async () => {
  conn = await connectTest();
});
afterAll(async () => conn?.close());

const spend = { usage: emptyUsage(), model: 'scripted', calls: [] };

/** What a scripted ticket writes on an attempt: path -> content. */
type Script = (input: PerformTicketInput) => Record<string, string>;

interface Scenario {
  tickets: (Partial<Ticket> & { id: string })[];
  write: Script;
  maxParallel?: number;
  maxReopens?: number;
  testCommand?: string;
  /** Whether the repository's tests pass on a tree (its files by path). */
  testsPass?: (files: Map<string, string>) => boolean;
  /** What a ticket gate's timeout does (default reject). */
  ticketGate?: 'approve' | 'reject';
  /** Makes the first attempt of each merge fail after it did its work (a worker killed mid-merge). */
  crashMerges?: boolean;
}

async function runScenario(name: string, sc: Scenario) {
  const store = new FsArtifactStore(mkdtempSync(path.join(os.tmpdir(), 'maestro-mq-store-')));
  const copies = mkdtempSync(path.join(os.tmpdir(), 'maestro-mq-copies-'));
  const repo = await makeRepo({ 'README.md': 'base\n', 'shared.txt': 'line 1\nline 2\nline 3\n' });
  const snapshot = await packRepo(repo.dir, store);
  const performed: PerformTicketInput[] = [];
  const merges: { input: MergeTicketInput; attempt: number; at: number; end?: number }[] = [];
  const tested: RepoTestsInput[] = [];
  const merge = createMergeActivities({ store, repoParent: copies });
  const plan: Plan = {
    summary: 'scripted plan',
    tickets: sc.tickets.map((t) => ({
      role: 'coder',
      title: `Ticket ${t.id}`,
      spec: `Do ${t.id}`,
      acceptanceCriteria: ['done'],
      dependsOn: [],
      ...t,
    })),
  };
  const filesOf = async (s: RepoSnapshot, extra: { path: string; sha256: string; bytes: number; uri: string }[]) => {
    const dir = await openSnapshot(store, s, copies);
    const names = (await gitText(['ls-tree', '-r', '--name-only', s.head], { gitDir: dir })).split('\n');
    const files = new Map<string, string>();
    for (const n of names) files.set(n, await gitText(['show', `${s.head}:${n}`], { gitDir: dir }));
    for (const f of extra) files.set(f.path, (await store.read(f)).toString().trim());
    return files;
  };
  const activities = {
    planGoal: async () => ({ plan, ...spend }),
    performTicket: async (input: PerformTicketInput) => {
      performed.push(input);
      const files = sc.write(input);
      const artifacts = await Promise.all(Object.entries(files).map(([p, c]) => store.put({ path: p, content: c })));
      return { summary: `${input.ticket.id} attempt ${input.attempt}`, artifacts, ...spend };
    },
    reviewTicket: async () => ({ review: { verdict: 'accept' as const, feedback: 'ok', criteria: [] }, ...spend }),
    finalizeRun: async () => ({ report: { headline: 'done', summary: 'scripted report', followUps: [] }, ...spend }),
    mergeTicket: async (input: MergeTicketInput) => {
      const attempt = Context.current().info.attempt;
      const rec: (typeof merges)[number] = { input, attempt, at: Date.now() };
      merges.push(rec);
      const out = await merge.mergeTicket(input);
      rec.end = Date.now();
      if (sc.crashMerges && attempt === 1) throw new Error('worker killed after the merge did its work');
      return out;
    },
    repoTests: async (input: RepoTestsInput): Promise<RepoTestResult> => {
      tested.push(input);
      const files = await filesOf(input.snapshot, input.own);
      const passed = sc.testsPass ? sc.testsPass(files) : true;
      return {
        command: input.testCommand,
        passed,
        exitCode: passed ? 0 : 1,
        durationMs: 5,
        output: passed ? 'ok' : `FAIL: bad.txt says ${files.get('bad.txt')}`,
      };
    },
  };
  const taskQueue = uniqueQueue(name);
  const worker = await Worker.create({
    connection: conn.nativeConnection,
    taskQueue,
    activities,
    workflowBundle: { codePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE! },
    sinks: workflowSinks(),
  });
  const runId = `${taskQueue}-run`;
  const input: RunInput = {
    goal: 'scripted repo run',
    roles: TEST_ROLES,
    maxParallel: sc.maxParallel ?? 3,
    ...(sc.maxReopens !== undefined ? { maxReopens: sc.maxReopens } : {}),
    gatePolicies: { ticket: { timeoutMs: 1000, onTimeout: sc.ticketGate ?? 'reject' } },
    repo: {
      name: 'fixture',
      baseRef: 'HEAD',
      snapshot,
      map: '# Repository map: fixture',
      branch: `maestro/${runId}`,
      ...(sc.testCommand ? { testCommand: sc.testCommand } : {}),
    },
  };
  const result = await worker.runUntil(async () => {
    const handle = await conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [input],
    });
    return (await handle.result()) as RunResult;
  });
  const dir = await openSnapshot(
    store,
    { ...snapshot, head: result.repo!.head, ...(result.repo!.series ? { series: result.repo!.series } : {}) },
    copies,
  );
  const log = result.repo!.commits.length
    ? await gitText(
        ['log', '--format=%H %P%n%(trailers:key=Maestro-Ticket,valueonly)', `${snapshot.base}..${result.repo!.head}`],
        { gitDir: dir },
      )
    : '';
  return { result, performed, merges, tested, dir, snapshot, log, runId };
}

test('tickets merge one at a time in acceptance order, and dependents start on the merged branch', async () => {
  const { result, performed, merges, dir, snapshot } = await runScenario('mq-order', {
    tickets: [
      { id: 'T1', changes: ['a.txt'] },
      { id: 'T2', changes: ['b.txt'] },
      { id: 'T3', changes: ['c.txt'] },
      { id: 'T4', changes: ['d.txt'], dependsOn: ['T1', 'T2', 'T3'] },
    ],
    write: (i) => ({
      [`${i.ticket.id === 'T4' ? 'd' : i.ticket.id === 'T1' ? 'a' : i.ticket.id === 'T2' ? 'b' : 'c'}.txt`]: `${i.ticket.id}\n`,
    }),
  });
  expect(result.status).toBe('completed');
  expect(result.repo!.commits.map((c) => c.ticketId).sort()).toEqual(['T1', 'T2', 'T3', 'T4']);
  expect(result.repo!.commits.at(-1)!.ticketId).toBe('T4');
  // One merge at a time: each started after the previous one ended, onto the branch it left.
  for (let i = 1; i < merges.length; i++) {
    expect(merges[i]!.at).toBeGreaterThanOrEqual(merges[i - 1]!.end!);
    expect(merges[i]!.input.onto.head).toBe(result.repo!.commits[i - 1]!.commit);
  }
  expect(merges.map((m) => m.input.ticket.id)).toEqual(result.repo!.commits.map((c) => c.ticketId));
  // The branch is linear, one commit per ticket with its trailers, on the base.
  const parents = (
    await gitText(['rev-list', '--parents', `${snapshot.base}..${result.repo!.head}`], { gitDir: dir })
  ).split('\n');
  expect(parents).toHaveLength(4);
  for (const line of parents) expect(line.split(' ')).toHaveLength(2);
  // T4 started on the branch with T1..T3 merged, and saw their commits.
  const t4 = performed.find((p) => p.ticket.id === 'T4')!;
  expect(t4.repo!.start.head).toBe(result.repo!.commits[2]!.commit);
  expect(t4.dependencies.map((d) => d.commit?.ticketId).sort()).toEqual(['T1', 'T2', 'T3']);
  for (const d of t4.dependencies) expect(d.commit!.diffstat).toMatch(/1 file changed/);
  // The report shows the branch and its diffstat.
  expect(result.report.summary).toContain(`Branch maestro/`);
  expect(result.report.summary).toContain('4 commits');
  expect(result.tickets.every((t) => t.state === 'accepted')).toBe(true);
});

test('tickets that name the same files do not run at once; the later one starts on the merged branch', async () => {
  const { result, performed } = await runScenario('mq-overlap', {
    tickets: [
      { id: 'T1', changes: ['shared.txt'] },
      { id: 'T2', changes: ['shared.txt'] },
    ],
    write: (i) => ({ 'shared.txt': i.ticket.id === 'T1' ? 'line 1\nT1\nline 3\n' : 'line 1\nT1\nline 3\nT2\n' }),
  });
  expect(result.status).toBe('completed');
  expect(performed.map((p) => p.ticket.id)).toEqual(['T1', 'T2']);
  expect(performed[1]!.repo!.start.head).toBe(result.repo!.commits[0]!.commit);
  expect(result.repo!.commits).toHaveLength(2);
});

test('a conflict re-opens the ticket on the new branch with the hunks, and then it merges', async () => {
  const { result, performed, dir } = await runScenario('mq-conflict', {
    tickets: [{ id: 'T1' }, { id: 'T2' }],
    write: (i) =>
      i.feedback?.includes('conflicts')
        ? { 'shared.txt': 'line 1\nfrom T1\nfrom T2\nline 3\n' }
        : { 'shared.txt': `line 1\nfrom ${i.ticket.id}\nline 3\n` },
  });
  expect(result.status).toBe('completed');
  const reopened = result.tickets.find((t) => t.reopened === 1)!;
  expect(reopened).toBeDefined();
  const retry = performed.find((p) => p.ticket.id === reopened.id && p.feedback?.includes('conflicts'))!;
  expect(retry.feedback).toContain('shared.txt');
  expect(retry.feedback).toMatch(/<<<<<<< [\s\S]*from T[12][\s\S]*=======[\s\S]*>>>>>>> /);
  expect(retry.repo!.start.head).toBe(result.repo!.commits[0]!.commit);
  expect(result.repo!.commits.map((c) => c.ticketId)).toHaveLength(2);
  expect(await gitText(['show', `${result.repo!.head}:shared.txt`], { gitDir: dir })).toBe(
    'line 1\nfrom T1\nfrom T2\nline 3',
  );
  expect(result.audit.some((a) => a.action === 'reopen' && a.ticketId === reopened.id)).toBe(true);
});

test('past --max-reopens a conflicting ticket goes to its gate and is not merged', async () => {
  const { result } = await runScenario('mq-bound', {
    maxReopens: 0,
    tickets: [{ id: 'T1' }, { id: 'T2' }],
    write: (i) => ({ 'shared.txt': `line 1\nfrom ${i.ticket.id}\nline 3\n` }),
  });
  expect(result.status).toBe('partial');
  const stuck = result.tickets.find((t) => t.state !== 'accepted')!;
  const gate = result.gates.find((g) => g.kind === 'ticket' && g.ticketId === stuck.id)!;
  expect(gate.reason).toMatch(
    /still conflicts with maestro\/.* in shared.txt after 0 re-open\(s\) \(--max-reopens 0\)/,
  );
  expect(result.repo!.commits.map((c) => c.ticketId)).toEqual([result.tickets.find((t) => t.state === 'accepted')!.id]);
});

test('approving a conflicting ticket anyway at its gate says it cannot be merged', async () => {
  const { result } = await runScenario('mq-approve', {
    maxReopens: 0,
    ticketGate: 'approve',
    tickets: [{ id: 'T1' }, { id: 'T2' }],
    write: (i) => ({ 'shared.txt': `line 1\nfrom ${i.ticket.id}\nline 3\n` }),
  });
  expect(result.status).toBe('partial');
  const stuck = result.tickets.find((t) => t.state !== 'accepted')!;
  expect(stuck.state).toBe('failed');
  expect(stuck.error).toMatch(
    /accepted by .* at the ticket gate, but its change still conflicts .*: it cannot be merged/,
  );
  expect(result.repo!.commits).toHaveLength(1);
});

test('a merge that crashed after doing its work and ran again made no second commit', async () => {
  const { result, merges, log, snapshot, dir } = await runScenario('mq-crash', {
    crashMerges: true,
    tickets: [{ id: 'T1' }, { id: 'T2', dependsOn: ['T1'] }],
    write: (i) => ({ [`${i.ticket.id}.txt`]: `${i.ticket.id}\n` }),
  });
  expect(result.status).toBe('completed');
  expect(merges.filter((m) => m.attempt === 2)).toHaveLength(2);
  expect(await gitText(['rev-list', '--count', `${snapshot.base}..${result.repo!.head}`], { gitDir: dir })).toBe('2');
  expect(log.match(/^T\d$/gm)).toEqual(['T2', 'T1']);
});

test('failing repo tests on the branch re-open the ticket whose commit broke them, found by bisecting', async () => {
  const { result, performed, tested } = await runScenario('mq-bisect', {
    testCommand: 'make test',
    maxParallel: 1,
    tickets: [{ id: 'T1' }, { id: 'T2' }, { id: 'T3' }, { id: 'T4' }],
    write: (i) =>
      i.ticket.id === 'T2'
        ? { 'bad.txt': i.feedback?.includes('tests') ? 'fixed\n' : 'bug\n' }
        : { [`${i.ticket.id}.txt`]: `${i.ticket.id}\n` },
    testsPass: (files) => files.get('bad.txt') !== 'bug',
  });
  expect(result.status).toBe('completed');
  expect(result.repo!.tests!.passed).toBe(true);
  const t2 = performed.filter((p) => p.ticket.id === 'T2');
  expect(t2).toHaveLength(2);
  expect(t2[1]!.feedback).toContain('FAIL: bad.txt says bug');
  // Per-attempt tests ran on every ticket's tree, and the branch was tested before the report.
  for (const id of ['T1', 'T2', 'T3', 'T4']) expect(tested.some((t) => t.ticketId === id)).toBe(true);
  expect(tested.filter((t) => t.ticketId === undefined).length).toBeGreaterThanOrEqual(3);
  expect(result.report.summary).toMatch(/Tests: `make test` passed/);
  expect(result.tickets.find((t) => t.id === 'T2')!.reopened).toBe(1);
});

test('past the bound, a branch whose tests fail ends partial and says so', async () => {
  const { result } = await runScenario('mq-partial', {
    testCommand: 'make test',
    maxReopens: 0,
    tickets: [{ id: 'T1' }],
    write: () => ({ 'bad.txt': 'bug\n' }),
    testsPass: (files) => files.get('bad.txt') !== 'bug',
  });
  expect(result.tickets[0]!.state).toBe('accepted');
  expect(result.status).toBe('partial');
  expect(result.repo!.tests!.passed).toBe(false);
  expect(result.report.summary).toMatch(/Tests: `make test` FAILED/);
  expect(result.audit.some((a) => a.action === 'repo-tests' && /ends partial/.test(a.comment ?? ''))).toBe(true);
});

test('a plan naming paths outside the repository is re-planned with a clear problem', async () => {
  // Checked by the pure function the planning loop uses (the scripted Boss above cannot re-plan).
  const problems = repoPlanProblems({
    tickets: [
      {
        id: 'T1',
        role: 'coder',
        title: 't',
        spec: 's',
        acceptanceCriteria: ['c'],
        dependsOn: [],
        changes: ['../x', '.git/hooks/pre-commit'],
        reads: ['/etc/passwd', 'src/ok.ts'],
      },
    ],
  });
  expect(problems).toHaveLength(3);
  expect(problems[0]).toMatch(/ticket T1 lists "..\/x" in `changes`, which has an empty, `.` or `..` part/);
  expect(problems[1]).toMatch(/inside a `.git` folder/);
  expect(problems[2]).toMatch(/`reads`, which is absolute/);
});

test('a forged repository input fails the run before the Boss is paid to plan', async () => {
  let planned = 0;
  const taskQueue = uniqueQueue('mq-forged');
  const worker = await Worker.create({
    connection: conn.nativeConnection,
    taskQueue,
    activities: {
      planGoal: async () => {
        planned++;
        throw new Error('must not plan');
      },
    },
    workflowBundle: { codePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE! },
    sinks: workflowSinks(),
  });
  const ref = { path: 'b', sha256: 'a'.repeat(64), bytes: 1, uri: 'file:///x' };
  const forged: unknown[] = [
    { name: 'x', baseRef: 'HEAD', map: '', branch: 'maestro/x', snapshot: { bundle: ref, base: 'HEAD', head: 'HEAD' } },
    {
      name: 'x',
      baseRef: 'HEAD',
      map: '',
      branch: 'maestro/../../x',
      snapshot: { bundle: ref, base: 'b'.repeat(40), head: 'b'.repeat(40) },
    },
    {
      name: 'x',
      baseRef: 'HEAD',
      map: '',
      branch: 'maestro/x',
      snapshot: { bundle: ref, base: 'b'.repeat(40), head: 'c'.repeat(40), series: ref },
    },
  ];
  const messages = await worker.runUntil(async () =>
    Promise.all(
      forged.map(async (repo, i) => {
        const handle = await conn.client.workflow.start('orchestratorWorkflow', {
          taskQueue,
          workflowId: `${taskQueue}-${i}`,
          args: [{ goal: 'forged', roles: TEST_ROLES, repo }],
        });
        return handle.result().then(
          () => 'completed',
          (err: { cause?: { message?: string }; message?: string }) => err.cause?.message ?? err.message ?? 'failed',
        );
      }),
    ),
  );
  expect(messages[0]).toMatch(/repository input is invalid: repo.snapshot.base is not a commit id/);
  expect(messages[1]).toMatch(/repo.branch must be maestro\/<name>/);
  expect(messages[2]).toMatch(/head must be its base/);
  expect(planned).toBe(0);
});
