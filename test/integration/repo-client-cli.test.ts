/**
 * `--repo` from the terminal, through the real `maestro` binary (issue 20, client side): the
 * refusals a person meets before anything starts, and `maestro start --repo` on a real git
 * repository: it names the base commit, the uncommitted paths and the detected test command,
 * starts the run with the packed base, the map, the branch and the repo roles in its input, and
 * leaves the checkout as it was.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { git } from '../../src/activities/repo/git';
import type { RunInput } from '../../src/shared/types';
import { runCli } from '../helpers/cli';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('repo-client-cli');
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'repo-client-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const text = async (args: string[], cwd: string) => (await git(args, { cwd })).stdout.toString('utf8').trim();

test('bad --repo arguments are refused before anything starts, with what to fix', async () => {
  const plain = path.join(tmp, 'plain');
  await mkdir(plain);
  const notRepo = await runCli(['start', 'Add a feature', '--repo', plain], world.env);
  expect(notRepo.code).toBe(2);
  expect(notRepo.stderr).toContain('not a git repository');
  const noRepo = await runCli(['run', 'Add a feature', '--base', 'main'], world.env);
  expect(noRepo.code).toBe(2);
  expect(noRepo.stderr).toContain('--base and --test-command only apply with --repo');
  const epics = await runCli(['run', 'Add a feature', '--repo', plain, '--epics'], world.env);
  expect(epics.code).toBe(2);
  expect(epics.stderr).toContain('--repo and --epics do not go together');
  const out = await runCli(['run', 'Add a feature', '--repo', '.', '--out', 'x'], world.env);
  expect(out.code).toBe(2);
  expect(out.stderr).toContain('--out and --force do not apply with --repo');
});

test('maestro start --repo packs the base and starts the run with the map, the branch and the repo roles', async () => {
  const dir = path.join(tmp, 'limiter');
  await mkdir(dir);
  await git(['init', '--quiet', '--initial-branch=main', dir]);
  await writeFile(path.join(dir, 'go.mod'), 'module example.com/limiter\n\ngo 1.21\n');
  await writeFile(path.join(dir, 'limiter.go'), 'package limiter\n\nfunc Allow() bool { return true }\n');
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'init'], { cwd: dir });
  await writeFile(path.join(dir, 'notes.txt'), 'mine\n');
  const base = await text(['rev-parse', 'HEAD'], dir);
  const statusBefore = await text(['status', '--porcelain'], dir);
  const runId = `repo-cli-${Date.now()}`;
  const res = await runCli(['start', 'Add a burst option to the limiter', '--repo', dir, '--run-id', runId], world.env);
  expect(res.code).toBe(0);
  expect(res.stdout.trim()).toBe(runId);
  expect(res.stderr).toContain(`base HEAD = ${base}`);
  expect(res.stderr).toContain('uncommitted changes are not part of the run: notes.txt');
  expect(res.stderr).toContain('Test command: go test ./... (detected; override with --test-command)');
  expect(res.stderr).toContain(`maestro result ${runId} --repo ${dir}`);
  expect(await text(['status', '--porcelain'], dir)).toBe(statusBefore);
  expect(await text(['symbolic-ref', 'HEAD'], dir)).toBe('refs/heads/main');

  const connection = await Connection.connect({ address: world.env.TEMPORAL_ADDRESS! });
  try {
    const history = await new Client({ connection }).workflow.getHandle(runId).fetchHistory();
    const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as RunInput;
    expect(input.repo).toMatchObject({
      name: 'limiter',
      baseRef: 'HEAD',
      branch: `maestro/${runId}`,
      testCommand: 'go test ./...',
      snapshot: { base, head: base },
    });
    expect(input.repo!.map).toMatch(/^# Repository map: limiter at [0-9a-f]{12} \(2 files, \d+ B\)\n/);
    expect(input.repo!.map).toContain('- limiter.go: func Allow');
    expect(input.roles.map((r) => [r.name, r.agent?.tools])).toEqual([
      ['coder', ['read_file', 'list_files', 'write_file', 'run_command']],
      ['tester', ['read_file', 'list_files', 'write_file', 'run_command']],
    ]);
    await new Client({ connection }).workflow.getHandle(runId).terminate('test done');
  } finally {
    await connection.close();
  }
});
