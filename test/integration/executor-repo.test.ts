/**
 * `runExecutor` on a repo ticket (issues 20 and 21): the CLI works in the ticket's git tree, the
 * run's start snapshot (a real git repository carried as a bundle in the store) with the ticket's
 * own files laid over it, in the real sandbox, with a real `.git` of its own. Its result is what
 * it changed, by hash; what repo tickets never carry (huge files, dot-files, `.git` paths, links,
 * deletions) is left out and named, and the CLI's own `.git` is never trusted.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import type { ActivityDeps } from '../../src/activities/deps';
import { createExecutorActivities } from '../../src/activities/executor/executor-activity';
import { gitText } from '../../src/activities/repo/git';
import { startSimLlm } from '../../src/dev/sim-llm';
import { functionText } from '../../src/dev/sim-llm/repo-lang';
import type { SimLlm } from '../../src/dev/sim-llm/types';
import type { RepoWork } from '../../src/shared/repo';
import type { ArtifactRef } from '../../src/shared/types';
import type { RoleDefinition } from '../../src/shared/roles';
import type { Ticket } from '../../src/shared/schemas';
import { snapshotOf } from '../helpers/repo-snapshot';
import { stubGateway, type StubGatewayLog } from '../helpers/stub-gateway';

const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');
const CORE = '"""The package core."""\n\n\ndef hello():\n    return "hello"\n';

let dir: string;
let sim: SimLlm;
let store: FsArtifactStore;
let repo: RepoWork;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-repo-'));
  sim = await startSimLlm();
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const src = path.join(dir, 'demo');
  mkdirSync(path.join(src, 'pkg'), { recursive: true });
  mkdirSync(path.join(src, 'tests'), { recursive: true });
  writeFileSync(path.join(src, 'README.md'), '# demo\n');
  writeFileSync(path.join(src, 'pkg', '__init__.py'), '');
  writeFileSync(path.join(src, 'pkg', 'core.py'), CORE);
  writeFileSync(path.join(src, 'tests', '__init__.py'), '');
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  repo = { start: await snapshotOf(store, src), name: 'demo', testCommand: 'python3 -m pytest -q' };
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const ticket: Ticket = {
  id: 'T1',
  title: 'Add a tagged helper',
  role: 'coder',
  spec: 'Add a small tagged helper function to pkg/core.py with a unit test.',
  acceptanceCriteria: ['the helper and its test exist'],
  dependsOn: [],
  changes: ['pkg/core.py', 'tests/test_maestro_t1.py'],
  reads: ['pkg/__init__.py'],
};

function setup(mode: string) {
  const log: StubGatewayLog = { requests: [], started: [], refused: 0 };
  const role: RoleDefinition = {
    name: 'coder',
    description: 'codes',
    systemPrompt: 'You are the Coder on a small team.',
    model: 'sim-model',
    executor: { agent: 'custom', wallMs: 30_000 },
    executorCommand: { command: 'node', args: [FAKE_CLI, mode] },
  };
  const deps = {
    llm: { call: () => Promise.reject(new Error('unused')) },
    store,
    roles: [role],
    bossSystemPrompt: '',
    bossModel: 'sim-model',
    workerModel: () => 'sim-model',
    reviewExcerptChars: 1000,
    sandboxHide: [path.join(dir, 'artifacts'), path.join(dir, 'demo')],
    executor: {
      startGateway: stubGateway(log),
      llm: { baseUrl: sim.baseUrl, timeoutMs: 30_000 },
      workspaceParent: path.join(dir, 'ws'),
    },
  } satisfies ActivityDeps;
  return { log, runExecutor: createExecutorActivities(deps).runExecutor };
}

const input = { runId: 'r1', ticket, dependencies: [], attempt: 1 };

const byPath = (refs: ArtifactRef[]) => new Map(refs.map((r) => [r.path, r]));

test("the CLI edits the ticket's git tree: only the changed files come back, by hash", async () => {
  const { log, runExecutor } = setup('agent');
  const out = await runExecutor({ ...input, repo });
  const files = byPath(out.artifacts);
  expect([...files.keys()].sort()).toEqual(['pkg/core.py', 'tests/test_maestro_t1.py']);
  const core = (await store.read(files.get('pkg/core.py')!)).toString();
  expect(core.startsWith(CORE)).toBe(true); // the start file, edited in place
  expect(core).toMatch(/^def maestro_t1\(\):/m);
  expect((await store.read(files.get('tests/test_maestro_t1.py')!)).toString()).toContain('maestro_t1');
  expect(out.summary).toMatch(/^T1 \(coder\) on demo: added maestro_t1 to pkg\/core\.py/);
  // The prompt is the repo ticket's: the files it names, the repository, never other tickets.
  expect(log.requests[0]).toContain('## Files you may change');
  expect(log.requests[0]).toContain('def hello():');
  expect(log.requests[0]).toContain('git work tree of demo');
  // Every attempt folder and checkout is gone afterwards.
  expect(existsSync(path.join(dir, 'ws')) ? readdirSync(path.join(dir, 'ws')) : []).toEqual([]);
}, 60_000);

test("a revision restarts in the same tree with the previous attempt's files laid over", async () => {
  const { log, runExecutor } = setup('agent');
  const wrong = await store.put({
    path: 'pkg/core.py',
    content: `${CORE}${functionText('python', 'T1', { expected: 'T1', wrong: true })}`,
  });
  const note = await store.put({ path: 'docs/NOTE.md', content: 'from attempt 1\n' });
  const out = await runExecutor({
    ...input,
    repo,
    attempt: 2,
    previous: [wrong, note],
    feedback: 'maestro_t1 must return "T1".',
  });
  const files = byPath(out.artifacts);
  expect([...files.keys()].sort()).toEqual(['docs/NOTE.md', 'pkg/core.py', 'tests/test_maestro_t1.py']);
  expect(files.get('docs/NOTE.md')).toEqual(note); // untouched: the previous attempt's, as it was
  const core = (await store.read(files.get('pkg/core.py')!)).toString();
  expect(core).not.toContain('T1-wrong');
  expect(core.match(/^def maestro_t1\(/gm)).toHaveLength(1);
  expect(log.requests[0]).toContain('T1-wrong'); // the CLI was shown its own previous file
  expect(log.requests[0]).toContain('maestro_t1 must return');
}, 60_000);

test('what a repo ticket never carries is left out and named; the CLI has a real repository of its own', async () => {
  const { runExecutor } = setup('repo-hostile');
  const out = await runExecutor({ ...input, repo });
  const files = byPath(out.artifacts);
  expect([...files.keys()].sort()).toEqual(['pkg/core.py', 'seen.txt']);
  const seen = (await store.read(files.get('seen.txt')!)).toString();
  expect(seen).toContain('inside: true');
  expect(seen).toContain('start: Start of ticket T1: demo at');
  expect(seen).toContain('clean: yes');
  expect(seen).toContain('core: """The package core."""');
  expect(out.summary).toMatch(/big\.bin \(larger than 1000000 bytes\)/);
  expect(out.summary).toMatch(/\.env \(not a path the artifact store accepts\)/);
  expect(out.summary).toMatch(/\.GIT\/config \(.*git's own folder/);
  expect(existsSync('/tmp/pwned')).toBe(false);
}, 60_000);

test("on a repo ticket the CLI has the worker's toolchains, as the repository's tests do", async () => {
  const { runExecutor } = setup('toolchain');
  const out = await runExecutor({ ...input, repo });
  const file = out.artifacts.find((a) => a.path === 'toolchains.txt');
  expect(file).toBeDefined();
  const text = (await store.read(file!)).toString();
  expect(text).toMatch(/^go: go version go\d/m);
  expect(text).toMatch(/^python: Python 3\./m);
}, 60_000);

test('a CLI that swaps its space for a link to / fails its attempt; nothing outside is read', async () => {
  const { runExecutor } = setup('space-swap');
  const err = await runExecutor({ ...input, repo }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err?.message).toMatch(/replaced its space/);
}, 60_000);
