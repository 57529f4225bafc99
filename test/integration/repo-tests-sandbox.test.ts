/**
 * The repository's own tests in the sandbox (issue 20), on real projects nobody here wrote: Go's
 * google/uuid (`go test ./...`) and PyPI's idna (`python3 -m pytest`), from the registries, as git
 * bundles in the artifact store. They pass offline under each isolation with the worker's
 * toolchains bound read-only; a deliberately broken edit (an own file) fails them; a test command
 * that forks without end or writes without end is stopped and reported, and the machine is left
 * as it was.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { REPO_TEST_LIMITS, runRepoTests } from '../../src/activities/repo/repo-tests';
import type { RepoTree } from '../../src/activities/repo/tree';
import { isolationAvailable, type Isolation } from '../../src/activities/tools/sandbox';
import type { ArtifactRef } from '../../src/shared/types';
import { goFixture, pythonFixture, type RepoFixture } from '../helpers/repo-fixtures';
import { openTree, snapshotOf } from '../helpers/repo-snapshot';

const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));

let dir: string;
let store: FsArtifactStore;
let go: { fixture: RepoFixture; tree: RepoTree };
let py: { fixture: RepoFixture; tree: RepoTree };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-repo-tests-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const open = async (fixture: RepoFixture) => ({
    fixture,
    tree: await openTree(store, await snapshotOf(store, fixture.dir), path.join(dir, 'repos')),
  });
  go = await open(await goFixture());
  py = await open(await pythonFixture());
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const f of [go?.fixture, py?.fixture]) if (f) rmSync(path.dirname(f.dir), { recursive: true, force: true });
});

function tests(
  tree: RepoTree,
  command: string,
  isolation: Isolation,
  own: ArtifactRef[] = [],
  limits = REPO_TEST_LIMITS,
) {
  return runRepoTests({
    store,
    tree,
    own,
    command,
    hide: [path.join(dir, 'artifacts')],
    workspaceParent: path.join(dir, 'ws'),
    isolation,
    limits,
    label: 'test',
  });
}

test('this machine has a sandbox to test', () => expect(ISOLATIONS.length).toBeGreaterThan(0));

describe.each(ISOLATIONS)('repository tests (%s)', (isolation) => {
  test('a Python project (idna from PyPI) passes offline; a broken edit fails it', async () => {
    const ok = await tests(py.tree, 'python3 -m pytest -q -p no:cacheprovider', isolation);
    expect(ok.output).toMatch(/\d+ passed/);
    expect(ok).toMatchObject({ passed: true, exitCode: 0 });
    expect((await store.read(ok.log!)).toString()).toContain('passed');
    // The project's own function, broken: its own tests catch it.
    const broken = await store.put({
      path: 'idna/intranges.py',
      content:
        'def intranges_from_list(list_):\n    return ()\n\ndef intranges_contain(int_, ranges):\n    return False\n\ndef _encode_range(start, end):\n    return 0\n\ndef _decode_range(r):\n    return (0, 0)\n',
    });
    const bad = await tests(py.tree, 'python3 -m pytest -q -p no:cacheprovider', isolation, [broken]);
    expect(bad.passed).toBe(false);
    expect(bad.exitCode).toBe(1);
    expect(bad.output).toMatch(/\d+ failed/);
    expect(readdirSync(path.join(dir, 'ws'))).toEqual([]);
  }, 120_000);

  test('a Go module (google/uuid from the module proxy) passes offline', async () => {
    const ok = await tests(go.tree, 'go test ./...', isolation);
    expect(ok.output).toContain('ok  \tgithub.com/google/uuid');
    expect(ok).toMatchObject({ passed: true, exitCode: 0 });
  }, 400_000);
});

describe('repository tests that misbehave', () => {
  const isolation = ISOLATIONS[0]!;

  test('a broken Go edit fails the tests with the compiler or the test saying why', async () => {
    const broken = await store.put({
      path: 'version.go',
      content:
        'package uuid\n\n// Version is broken on purpose.\ntype Version byte\n\nfunc (v Version) String() string { return "broken" }\n',
    });
    const bad = await tests(go.tree, 'go test ./...', isolation, [broken]);
    expect(bad.passed).toBe(false);
    expect(bad.output).toMatch(/FAIL/);
  }, 400_000);

  test('a test command that forks without end is stopped at the process limit', async () => {
    const res = await tests(
      py.tree,
      'python3 -c "import os,itertools,time\nfor _ in itertools.count():\n  try: os.fork()\n  except OSError: time.sleep(0.01)"',
      isolation,
      [],
      { ...REPO_TEST_LIMITS, timeoutMs: 10_000, maxProcesses: 100 },
    );
    expect(res.passed).toBe(false);
    expect(res.stopped).toMatch(/time limit/);
    expect(res.output).toMatch(/process limit of 100/);
  }, 60_000);

  test('a test command that writes without end is stopped at the output limit, and one filling the disk gets ENOSPC', async () => {
    const flood = await tests(
      py.tree,
      'python3 -c "import sys\nwhile True: sys.stdout.write(\'x\' * 65536)"',
      isolation,
      [],
      {
        ...REPO_TEST_LIMITS,
        timeoutMs: 30_000,
      },
    );
    expect(flood.passed).toBe(false);
    expect(flood.stopped).toMatch(/output limit/);
    expect(flood.output.length).toBeLessThan(5000);
    const disk = await tests(
      py.tree,
      "python3 -c \"f = open('big', 'wb')\nwhile True: f.write(b'x' * 1048576)\"",
      isolation,
      [],
      { ...REPO_TEST_LIMITS, timeoutMs: 30_000, diskMb: 16 },
    );
    expect(disk.passed).toBe(false);
    expect(disk.output).toMatch(/No space left on device|File too large/);
    expect(readdirSync(path.join(dir, 'ws'))).toEqual([]);
  }, 120_000);

  test('a test command with shell syntax is not run, and the result says what to fix', async () => {
    const res = await tests(py.tree, 'pytest && curl http://x', isolation);
    expect(res).toMatchObject({ passed: false, stopped: 'refused' });
    expect(res.output).toMatch(/shell syntax.*testCommand/s);
  });
});
