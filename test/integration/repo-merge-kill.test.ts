/**
 * kill -9 of a worker during mergeTicket: a process merging a ticket is SIGKILLed at random
 * moments (while it builds the copy, writes objects, moves refs, bundles the series); the merge
 * run again on the same copy folder finishes and makes the very commit an undisturbed merge makes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import type { MergeTicketInput, MergeTicketOutput } from '../../src/shared/repo';
import { makeRepo, packRepo } from '../helpers/repo-git';

const CHILD = path.join(__dirname, '..', 'fixtures', 'repo', 'merge-child.ts');
const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

function runChild(args: string[], killAfterMs?: number): Promise<{ out?: MergeTicketOutput; killed: boolean; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve({ killed: true });
      if (code !== 0) return resolve({ killed: false, error: stderr });
      resolve({ out: JSON.parse(stdout) as MergeTicketOutput, killed: false });
    });
  });
}

test('a merge killed at random moments and run again makes the same commit as an undisturbed one', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-merge-kill-'));
  const store = new FsArtifactStore(path.join(home, 'store'));
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`src/f${i}.txt`] = `file ${i}\n`.repeat(50);
  const repo = await makeRepo(files);
  const base = await packRepo(repo.dir, store);
  const first: MergeTicketInput = {
    runId: 'run-k',
    branch: 'maestro/run-k',
    ticket: { id: 'T1', role: 'coder', title: 'One', summary: 'first' },
    start: base,
    onto: base,
    files: [await store.put({ path: 'src/f1.txt', content: 'changed\n' })],
    at: '2026-12-07T00:00:00Z',
  };
  const inputFile = path.join(home, 'in.json');
  writeFileSync(inputFile, JSON.stringify(first));
  const clean = await runChild([inputFile, path.join(home, 'store'), path.join(home, 'clean-copies')]);
  if (clean.out?.status !== 'merged') throw new Error('clean merge failed');
  // The second ticket merges 3-way onto the first: kill that one again and again.
  const second: MergeTicketInput = {
    ...first,
    ticket: { id: 'T2', role: 'coder', title: 'Two', summary: 'second' },
    onto: clean.out.snapshot,
    files: [await store.put({ path: 'src/f2.txt', content: 'changed too\n' })],
  };
  writeFileSync(inputFile, JSON.stringify(second));
  const expected = await runChild([inputFile, path.join(home, 'store'), path.join(home, 'expected-copies')]);
  if (expected.out?.status !== 'merged') throw new Error('clean second merge failed');
  const copies = path.join(home, 'killed-copies');
  let kills = 0;
  // Startup of tsx takes most of the first ~600 ms; spread the kills over the merge's work after it.
  for (let i = 0; i < 12; i++) {
    const r = await runChild([inputFile, path.join(home, 'store'), copies], 400 + Math.floor(Math.random() * 900));
    if (r.killed) kills++;
  }
  const after = await runChild([inputFile, path.join(home, 'store'), copies]);
  expect(kills).toBeGreaterThan(0);
  expect(after.out?.status).toBe('merged');
  if (after.out?.status !== 'merged') return;
  expect(after.out.snapshot.head).toBe(expected.out.snapshot.head);
  expect(after.out.commit.patch.sha256).toBe(expected.out.commit.patch.sha256);
  // The copy is still a sound repository.
  const gitDir = path.join(copies, readdirSync(copies).find((d) => d.endsWith('.git') && !d.startsWith('tmp-'))!);
  await promisify(execFile)('git', ['--git-dir', gitDir, 'fsck', '--no-dangling']);
  // A kill at the worst moment leaves git's lock files behind (a ref being moved): the merge still goes through.
  mkdirSync(path.join(gitDir, 'refs', 'heads', 'maestro'), { recursive: true });
  writeFileSync(path.join(gitDir, 'refs', 'heads', 'maestro', 'run-k.lock'), '');
  mkdirSync(path.join(gitDir, 'refs', 'maestro', 'keep'), { recursive: true });
  writeFileSync(path.join(gitDir, 'refs', 'maestro', 'keep', `${second.onto.head}.lock`), '');
  const locked = await runChild([inputFile, path.join(home, 'store'), copies]);
  expect(locked.out?.status === 'merged' && locked.out.snapshot.head).toBe(expected.out.snapshot.head);
}, 180_000);
