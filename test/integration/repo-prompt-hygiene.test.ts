/**
 * Context hygiene of repo tickets (issue 20), checked from the simulated LLM's request log: a repo
 * ticket's worker (single call and agent's first turn) sees its ticket, the repository line, the
 * files its ticket names (from its start tree with its own files over it) and its dependencies'
 * diffs, in the sections the prompt builder defines; never the goal, another ticket, or a file of
 * the repository it does not name. Its review sees its diff and its repo test result, not files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { gitText } from '../../src/activities/repo/git';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RepoWork } from '../../src/shared/repo';
import type { Ticket } from '../../src/shared/schemas';
import type { TicketOutput } from '../../src/shared/types';
import { testDeps } from '../helpers/temporal';
import { snapshotOf } from '../helpers/repo-snapshot';

const GOAL = 'Add rate limiting to the public API of Quokka Store, with tests';
const SECRET = 'UNNAMED-FILE-SECRET-4711';

let sim: SimLlm;
let dir: string;

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-hygiene-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The `## ` sections of a user message outside its fenced blocks. */
function sections(user: string): string[] {
  const outside = user.replace(/(`{3,})[^\n]*\n[\s\S]*?\n\1/g, '');
  return [...outside.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.replace(/\(.*$/, '').trim());
}

const REPO_SECTIONS = [
  'Specification',
  'Acceptance criteria',
  'Repository',
  'Files you may change',
  'Files to read',
  'Changes of the tickets this one depends on',
  'Reviewer feedback on your previous attempt',
  'Answer',
];

test('repo worker prompts and reviews carry only their ticket, its named files and its dependencies diffs', async () => {
  const deps = testDeps(sim.baseUrl);
  const src = path.join(dir, 'shop');
  mkdirSync(path.join(src, 'api'), { recursive: true });
  writeFileSync(path.join(src, 'api', 'server.go'), 'package api\n\nfunc Serve() {}\n');
  writeFileSync(path.join(src, 'api', 'limits.go'), 'package api\n\nconst Burst = 10\n');
  writeFileSync(path.join(src, 'internal.go'), `package api\n\n// ${SECRET}\n`);
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  const start = await snapshotOf(deps.store, src);
  const repo: RepoWork = { start, testCommand: 'go test ./...', name: 'shop' };
  const patch = await deps.store.put({
    path: 'repo/T1.patch',
    content:
      'diff --git a/api/limits.go b/api/limits.go\n--- a/api/limits.go\n+++ b/api/limits.go\n@@ -1,3 +1,3 @@\n-const Burst = 10\n+const Burst = 20\n',
  });
  const dependency: TicketOutput = {
    ticketId: 'T1',
    role: 'coder',
    title: 'Raise the burst limit',
    summary: 'raised',
    artifacts: [],
    commit: { ticketId: 'T1', role: 'coder', commit: 'a'.repeat(40), patch, diffstat: ' api/limits.go | 2 +-' },
  };
  const ticket: Ticket = {
    id: 'T2',
    role: 'coder',
    title: 'Limit requests per client',
    spec: 'Add a per-client limiter to api/server.go using Burst.',
    acceptanceCriteria: ['Serve rejects a client past Burst requests'],
    dependsOn: ['T1'],
    changes: ['api/server.go', 'api/limiter.go'],
    reads: ['api/limits.go'],
  };
  const acts = createActivities(deps);
  sim.clearRequests();
  await acts.performTicket({ runId: 'r1', ticket, dependencies: [dependency], attempt: 1, repo });
  await acts.agentTurn({
    runId: 'r1',
    ticket,
    dependencies: [dependency],
    attempt: 1,
    turn: 1,
    settings: { tools: ['read_file', 'list_files', 'write_file', 'run_command'] },
    toolResults: [],
    own: [],
    repo,
  });
  const work = sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work && r.status === 200);
  expect(work).toHaveLength(2);
  for (const call of work) {
    const text = call.messages.map((m) => m.content).join('\n');
    const user = call.messages[1]!.content;
    expect(text).not.toContain(GOAL);
    expect(text).not.toContain('# Goal');
    expect(text).not.toContain(SECRET);
    expect(user).toContain('## Repository\nshop; test command: `go test ./...`');
    expect(user).toMatch(/### api\/server\.go\n```\npackage api\n\nfunc Serve\(\) \{\}\n\n```/);
    expect(user).toContain('### api/limiter.go (new file)');
    expect(user).toMatch(/## Files to read\n### api\/limits\.go\n```\npackage api\n\nconst Burst = 10/);
    expect(user).toMatch(
      /### T1 Raise the burst limit\n```diff\ndiff --git a\/api\/limits.go[\s\S]*\+const Burst = 20/,
    );
    for (const s of sections(user)) expect(REPO_SECTIONS).toContain(s);
  }

  // The review: the diff of the own files against the start and the repo tests, not whole files.
  const own = [await deps.store.put({ path: 'api/server.go', content: 'package api\n\nfunc Serve() { limit() }\n' })];
  sim.clearRequests();
  await acts.reviewTicket({
    runId: 'r1',
    ticket,
    summary: 'added a limiter',
    artifacts: own,
    attempt: 1,
    revisionsLeft: 1,
    repo: {
      work: repo,
      tests: { command: 'go test ./...', passed: false, exitCode: 1, durationMs: 5, output: 'FAIL api 0.01s' },
    },
  });
  const review = sim.requests().find((r) => r.schemaName === SCHEMA_NAMES.review)!;
  const rtext = review.messages.map((m) => m.content).join('\n');
  expect(rtext).toMatch(/-func Serve\(\) \{\}\n\+func Serve\(\) \{ limit\(\) \}/);
  expect(rtext).toContain("## The repository's tests on this result: FAILED");
  expect(rtext).toContain('FAIL api 0.01s');
  expect(rtext).not.toContain('#### File:');
  expect(rtext).not.toContain(SECRET);
  expect(rtext).not.toContain(GOAL);
});

test("agentTool of a repo ticket reads the ticket's tree and may start the repository's test runners", async () => {
  const deps = testDeps(sim.baseUrl);
  const src = path.join(dir, 'tool-repo');
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, 'calc.py'), 'def add(a, b):\n    return a + b\n');
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  const repo: RepoWork = { start: await snapshotOf(deps.store, src), testCommand: 'python3 -m pytest', name: 'calc' };
  const acts = createActivities(deps);
  const base = {
    runId: 'r2',
    ticketId: 'T1',
    role: 'coder',
    turn: 1,
    settings: { tools: ['read_file', 'run_command'] as ('read_file' | 'run_command')[] },
    dependencies: [],
    own: [],
  };
  const read = await acts.agentTool({
    ...base,
    call: { id: 'c1', name: 'read_file', arguments: '{"path":"calc.py"}' },
    repo,
  });
  expect(read.result.content).toContain('return a + b');
  const command = {
    id: 'c2',
    name: 'run_command',
    arguments: '{"command":"python3 -c \\"import calc; print(calc.add(2, 3))\\""}',
  };
  const ran = await acts.agentTool({ ...base, call: command, repo });
  expect(ran.result.content).toMatch(/exit code 0[\s\S]*\n5\n/);
  // The same program is not allowed outside a repo ticket (the worker's ceiling holds).
  const refused = await acts.agentTool({ ...base, call: command });
  expect(refused.result.content).toMatch(/"python3" is not an allowed program/);
});
