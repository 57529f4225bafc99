/**
 * The merge queue's step with real git: a ticket's files become one commit with trailers on the
 * run branch; parallel work merges 3-way; conflicts come back with their hunks; a retried merge
 * makes the same commit; forged snapshots and escaping paths are refused with clear messages.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { git, gitText } from '../../src/activities/repo/git';
import { mergeTicket, unsafeRepoPath, type MergeDeps } from '../../src/activities/repo/merge';
import type { MergeTicketInput, RepoSnapshot } from '../../src/shared/repo';
import { openSnapshot, storeSeries } from '../../src/activities/repo/cache';
import { makeRepo, packRepo } from '../helpers/repo-git';

const store = new FsArtifactStore(mkdtempSync(path.join(os.tmpdir(), 'maestro-merge-store-')));
const AT = '2026-12-07T01:00:00.000Z';

/** Deps over one worker's repository copies (cache.ts), as the activity uses them. */
function sharedDeps(parent = mkdtempSync(path.join(os.tmpdir(), 'maestro-merge-copies-'))): MergeDeps {
  return {
    store,
    open: (s) => openSnapshot(store, s, parent),
    storeSeries: (gitDir, b, head, branch) => storeSeries(store, gitDir, b, head, branch),
  };
}

/** Deps that rebuild the repository from the store on every merge (another host, or after a crash). */
const freshDeps: MergeDeps = {
  store,
  open: (s) => openSnapshot(store, s, mkdtempSync(path.join(os.tmpdir(), 'maestro-merge-fresh-'))),
  storeSeries: (gitDir, b, head, branch) => storeSeries(store, gitDir, b, head, branch),
};

/** A fresh copy holding a snapshot, to look at a result. */
const openFresh = (_store: unknown, s: RepoSnapshot) => freshDeps.open(s);

async function file(p: string, content: string) {
  return store.put({ path: p, content });
}

function input(
  start: RepoSnapshot,
  onto: RepoSnapshot,
  id: string,
  files: MergeTicketInput['files'],
): MergeTicketInput {
  return {
    runId: 'run-1',
    branch: 'maestro/run-1',
    ticket: { id, role: 'coder', title: `Ticket ${id} title`, summary: `What ${id} did.` },
    start,
    onto,
    files,
    at: AT,
  };
}

async function showFile(dir: string, commit: string, p: string) {
  return gitText(['show', `${commit}:${p}`], { gitDir: dir });
}

let base: RepoSnapshot;
beforeAll(async () => {
  const repo = await makeRepo({
    'README.md': 'hello\n',
    'src/a.txt': 'one\ntwo\nthree\n',
    'run.sh': '#!/bin/sh\necho hi\n',
  });
  chmodSync(path.join(repo.dir, 'run.sh'), 0o755);
  await git(['add', 'run.sh'], { cwd: repo.dir });
  await git(['commit', '-q', '-m', 'mode'], { cwd: repo.dir });
  base = await packRepo(repo.dir, store);
});

test('a ticket on the base becomes one commit with its message and trailers, modes kept', async () => {
  const out = await mergeTicket(
    freshDeps,
    input(base, base, 'T1', [await file('src/b.txt', 'new\n'), await file('run.sh', '#!/bin/sh\necho bye\n')]),
  );
  if (out.status !== 'merged') throw new Error(out.status);
  const dir = await openFresh(store, out.snapshot);
  expect(await gitText(['rev-parse', `${out.snapshot.head}~1`], { gitDir: dir })).toBe(base.head);
  expect(await gitText(['log', '-1', '--format=%B', out.snapshot.head], { gitDir: dir })).toBe(
    'Ticket T1 title\n\nWhat T1 did.\n\nMaestro-Run: run-1\nMaestro-Ticket: T1\nMaestro-Role: coder',
  );
  expect(await gitText(['log', '-1', '--format=%ad %cd', '--date=unix', out.snapshot.head], { gitDir: dir })).toBe(
    `${Date.parse(AT) / 1000} ${Date.parse(AT) / 1000}`,
  );
  expect(await showFile(dir, out.snapshot.head, 'src/b.txt')).toBe('new');
  expect(await gitText(['ls-tree', out.snapshot.head, 'run.sh'], { gitDir: dir })).toMatch(/^100755 /);
  expect(out.commit.diffstat).toMatch(/2 files changed/);
  const patch = (await store.read(out.commit.patch)).toString();
  expect(patch).toContain('Maestro-Ticket: T1');
  expect(patch).toContain('+new');
  // The series bundle holds the branch under its name.
  const heads = await gitText(['bundle', 'list-heads', path.join(new URL(out.snapshot.series!.uri).pathname)]);
  expect(heads).toBe(`${out.snapshot.head} refs/heads/maestro/run-1`);
});

test('parallel tickets on disjoint files merge 3-way onto each other, linearly', async () => {
  const deps = sharedDeps();
  const one = await mergeTicket(deps, input(base, base, 'T1', [await file('src/b.txt', 'b\n')]));
  if (one.status !== 'merged') throw new Error(one.status);
  // T2 started on the base too; the branch moved on since.
  const two = await mergeTicket(
    freshDeps,
    input(base, one.snapshot, 'T2', [await file('src/a.txt', 'one\ntwo\nthree\nfour\n')]),
  );
  if (two.status !== 'merged') throw new Error(two.status);
  const dir = await openFresh(store, two.snapshot);
  expect(await gitText(['rev-list', '--parents', `${base.head}..${two.snapshot.head}`], { gitDir: dir })).toBe(
    `${two.snapshot.head} ${one.snapshot.head}\n${one.snapshot.head} ${base.head}`,
  );
  expect(await showFile(dir, two.snapshot.head, 'src/b.txt')).toBe('b');
  expect(await showFile(dir, two.snapshot.head, 'src/a.txt')).toBe('one\ntwo\nthree\nfour');
  expect(two.commit.diffstat).toMatch(/src\/a.txt \| 1 \+\n 1 file changed/);
  expect(
    await gitText(['log', '-1', '--format=%(trailers:key=Maestro-Ticket,valueonly)', two.snapshot.head], {
      gitDir: dir,
    }),
  ).toBe('T2');
});

test('a conflict returns the files and the hunks with both sides, and commits nothing', async () => {
  const one = await mergeTicket(
    freshDeps,
    input(base, base, 'T1', [await file('src/a.txt', 'one\nTWO from T1\nthree\n')]),
  );
  if (one.status !== 'merged') throw new Error(one.status);
  const two = await mergeTicket(
    freshDeps,
    input(base, one.snapshot, 'T2', [await file('src/a.txt', 'one\ntwo by T2\nthree\n')]),
  );
  expect(two.status).toBe('conflict');
  if (two.status !== 'conflict') return;
  expect(two.files).toEqual(['src/a.txt']);
  expect(two.hunks).toContain('### src/a.txt');
  expect(two.hunks).toContain('TWO from T1');
  expect(two.hunks).toContain('two by T2');
  expect(two.hunks).toMatch(/<<<<<<< [\s\S]*=======[\s\S]*>>>>>>> /);
});

test('a ticket that changes nothing (or what is already merged) is empty', async () => {
  expect(await mergeTicket(freshDeps, input(base, base, 'T1', []))).toEqual({ status: 'empty' });
  expect(await mergeTicket(freshDeps, input(base, base, 'T1', [await file('README.md', 'hello\n')]))).toEqual({
    status: 'empty',
  });
  const one = await mergeTicket(freshDeps, input(base, base, 'T1', [await file('x.txt', 'x\n')]));
  if (one.status !== 'merged') throw new Error(one.status);
  expect(await mergeTicket(freshDeps, input(base, one.snapshot, 'T2', [await file('x.txt', 'x\n')]))).toEqual({
    status: 'empty',
  });
});

test('a retried merge (after a crash, on another host) makes the same commit and patch', async () => {
  const files = [await file('src/c.txt', 'c\n')];
  const first = await mergeTicket(freshDeps, input(base, base, 'T1', files));
  const again = await mergeTicket(freshDeps, input(base, base, 'T1', files));
  const shared = await mergeTicket(sharedDeps(), input(base, base, 'T1', files));
  if (first.status !== 'merged' || again.status !== 'merged' || shared.status !== 'merged')
    throw new Error('not merged');
  expect(again.snapshot.head).toBe(first.snapshot.head);
  expect(shared.snapshot.head).toBe(first.snapshot.head);
  expect(again.commit.patch.sha256).toBe(first.commit.patch.sha256);
  // Onto a moved branch too.
  const t2 = [await file('src/d.txt', 'd\n')];
  const a = await mergeTicket(freshDeps, input(base, first.snapshot, 'T2', t2));
  const b = await mergeTicket(freshDeps, input(base, first.snapshot, 'T2', t2));
  if (a.status !== 'merged' || b.status !== 'merged') throw new Error('not merged');
  expect(b.snapshot.head).toBe(a.snapshot.head);
  const dir = await openFresh(store, b.snapshot);
  expect(await gitText(['rev-list', '--count', `${base.head}..${b.snapshot.head}`], { gitDir: dir })).toBe('2');
});

test('two runs merge on the same bundle and git dir at once without touching each other', async () => {
  const deps = sharedDeps();
  const runs = await Promise.all(
    Array.from({ length: 6 }, async (_, i) =>
      mergeTicket(deps, {
        ...input(base, base, 'T1', [await file(`f${i}.txt`, `${i}\n`)]),
        runId: `run-${i}`,
        branch: `maestro/run-${i}`,
      }),
    ),
  );
  const heads = runs.map((r) => (r.status === 'merged' ? r.snapshot : undefined));
  expect(new Set(heads.map((h) => h?.head)).size).toBe(6);
  for (const [i, s] of heads.entries()) {
    const dir = await openFresh(store, s!);
    expect(await gitText(['ls-tree', '--name-only', s!.head], { gitDir: dir })).toContain(`f${i}.txt`);
    expect(await gitText(['ls-tree', '--name-only', s!.head], { gitDir: dir })).not.toContain(`f${(i + 1) % 6}.txt`);
  }
});

test('paths that escape the repository or reach into .git are refused, with the path named', async () => {
  for (const bad of ['.git/hooks/x', '../x', '/etc/passwd', 'a/../../x', 'a/.GIT/config', 'a//b', './x', 'a\\b']) {
    expect(unsafeRepoPath(bad)).toBeDefined();
    await expect(mergeTicket(freshDeps, input(base, base, 'T1', [await file(bad, 'x')]))).rejects.toThrow(
      new RegExp(`file ${JSON.stringify(bad).replace(/[\\.*+?^${}()|[\]]/g, '\\$&')} .*cannot be committed`),
    );
  }
  expect(unsafeRepoPath('src/.gitignore')).toBeUndefined();
  expect(unsafeRepoPath('.github/workflows/ci.yml')).toBeUndefined();
});

test('forged snapshots are refused before any commit is made', async () => {
  const forged = (s: Partial<RepoSnapshot>) => ({ ...base, ...s });
  const f = [await file('z.txt', 'z\n')];
  await expect(mergeTicket(freshDeps, input(forged({ head: 'HEAD' }), base, 'T1', f))).rejects.toThrow(
    /start snapshot's head is not a 40-hex-digit commit id/,
  );
  await expect(mergeTicket(freshDeps, input(base, forged({ base: '--upload-pack=x' }), 'T1', f))).rejects.toThrow(
    /onto snapshot's base/,
  );
  const missing = 'a'.repeat(40);
  await expect(
    mergeTicket(freshDeps, input(base, forged({ head: missing, series: base.bundle }), 'T1', f)),
  ).rejects.toThrow(/does not contain the commit a{12}|onto commit a{40} is not in the run's repository bundles/);
  await expect(mergeTicket(freshDeps, input(base, forged({ head: missing }), 'T1', f))).rejects.toThrow(
    /no series bundle/,
  );
  // A start that is not on the branch (another line of history in the same bundle).
  const other = await mergeTicket(freshDeps, input(base, base, 'T9', [await file('o.txt', 'o\n')]));
  const mine = await mergeTicket(freshDeps, input(base, base, 'T8', [await file('m.txt', 'm\n')]));
  if (other.status !== 'merged' || mine.status !== 'merged') throw new Error('not merged');
  await expect(mergeTicket(freshDeps, input(other.snapshot, mine.snapshot, 'T1', f))).rejects.toThrow(
    /is not on the run branch|start commit [0-9a-f]{40} is not in the run.s repository bundles/,
  );
  // One shared copy that holds both lines: the start is there, but not on the branch.
  const deps = sharedDeps();
  await deps.open(other.snapshot);
  await expect(mergeTicket(deps, input(other.snapshot, mine.snapshot, 'T1', f))).rejects.toThrow(
    /is not on the run branch/,
  );
  // A series bundle that names a head from another run's series.
  await expect(
    mergeTicket(freshDeps, input(base, { ...mine.snapshot, series: other.snapshot.series }, 'T1', f)),
  ).rejects.toThrow(/does not contain the commit/);
  await expect(mergeTicket(freshDeps, { ...input(base, base, 'T1', f), at: 'yesterday' })).rejects.toThrow(
    /merge time is not a date/,
  );
});

test('a commit of many files keeps a bounded diffstat that still ends with its totals', async () => {
  const files = await Promise.all(
    Array.from({ length: 150 }, (_, i) => file(`gen/a-rather-long-folder-name/file-${i}.txt`, `${i}\n`)),
  );
  const out = await mergeTicket(freshDeps, input(base, base, 'T9', files));
  if (out.status !== 'merged') throw new Error(out.status);
  // The run carries every commit's diffstat: it stays small; the whole diff is in the patch.
  expect(out.commit.diffstat.length).toBeLessThanOrEqual(1500);
  expect(out.commit.diffstat).toMatch(/more files\)\n 150 files changed, 150 insertions\(\+\)$/);
  expect((await store.read(out.commit.patch)).toString()).toContain('gen/a-rather-long-folder-name/file-149.txt');
});

test("a model's title and summary reach the user's git log with escape codes and bidi characters shown, not acted on", async () => {
  const hostile = input(base, base, 'T8', [await file('src/h.txt', 'h\n')]);
  hostile.ticket = {
    ...hostile.ticket,
    title: 'Fix \x1b[2J\x1b]0;pwned\x07 the \u202egpj.exe title',
    summary: 'Line one \x1b[31mred\x1b[0m\nline two\u200b',
  };
  const out = await mergeTicket(freshDeps, hostile);
  if (out.status !== 'merged') throw new Error(out.status);
  const dir = await openFresh(store, out.snapshot);
  const message = await gitText(['log', '-1', '--format=%B', out.snapshot.head], { gitDir: dir });
  expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/);
  expect(message.split('\n')[0]).toBe('Fix \\x1b[2J\\x1b]0;pwned\\x07 the \\u202egpj.exe title');
  expect(message).toContain('Line one \\x1b[31mred\\x1b[0m\nline two\\u200b');
  expect(message).toMatch(/\nMaestro-Ticket: T8\nMaestro-Role: coder$/);
});
