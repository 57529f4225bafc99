/**
 * The client's two touches of the person's repository in a repo run (issue 20), with real git in
 * temp folders: packing the base (the checkout stays byte for byte as it was: HEAD, branch, index
 * file, status, stash, refs, every file under .git; the bundle holds the base), and fetching the
 * run's branch back (only a new branch appears; an existing branch is never overwritten). Plus
 * the refusals a person may meet, a hostile `.git/config` that must run nothing, and a 10,000-file
 * repository.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { openSnapshot, storeSeries } from '../../src/activities/repo/cache';
import { deliverSeries } from '../../src/activities/repo/deliver';
import { git } from '../../src/activities/repo/git';
import { dirtyNotice, packBase } from '../../src/activities/repo/pack';
import { buildRepoMap } from '../../src/activities/repo/repo-map';
import { openUserRepo, RepoInputError, userGit } from '../../src/activities/repo/user-repo';
import { generateRepo } from '../../src/bench/generated-repo';

let tmp: string;
let store: FsArtifactStore;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'repo-pack-test-'));
  store = new FsArtifactStore(path.join(tmp, 'store'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const text = async (args: string[], cwd: string) => (await git(args, { cwd })).stdout.toString('utf8').trim();

/** A repository on branch `work` with two commits, a stash, and uncommitted changes of every kind. */
async function userRepo(name: string): Promise<{ dir: string; base: string; first: string }> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  await git(['init', '--quiet', '--initial-branch=work', dir]);
  await writeFile(path.join(dir, 'a.txt'), 'one\n');
  await writeFile(path.join(dir, 'b.txt'), 'bee\n');
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'first'], { cwd: dir });
  const first = await text(['rev-parse', 'HEAD'], dir);
  await writeFile(path.join(dir, 'a.txt'), 'two\n');
  await git(['commit', '--quiet', '-am', 'second'], { cwd: dir });
  await writeFile(path.join(dir, 'b.txt'), 'stashed\n');
  await git(['stash', '--quiet'], { cwd: dir });
  await writeFile(path.join(dir, 'a.txt'), 'modified\n');
  await writeFile(path.join(dir, 'staged.txt'), 'staged\n');
  await git(['add', 'staged.txt'], { cwd: dir });
  await writeFile(path.join(dir, 'untracked.txt'), 'new\n');
  return { dir, base: await text(['rev-parse', 'HEAD'], dir), first };
}

/** Every file under `root` with its size, mtime and content hash. */
async function files(root: string, skip?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === skip) continue;
      if (e.isDirectory()) await walk(p);
      else {
        const s = await stat(p);
        const hash = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
        out.push(`${path.relative(root, p)} ${s.size} ${s.mtimeMs} ${hash}`);
      }
    }
  };
  await walk(root);
  return out.sort();
}

/** What a person would notice of their checkout. */
async function fingerprint(dir: string) {
  const gitFiles = await files(path.join(dir, '.git'));
  const work = await files(dir, path.join(dir, '.git'));
  return {
    gitFiles,
    work,
    head: await text(['symbolic-ref', 'HEAD'], dir),
    status: await text(['status', '--porcelain'], dir),
    stash: await text(['stash', 'list'], dir),
    refs: await text(['for-each-ref'], dir),
  };
}

test('packing the base leaves the checkout exactly as it was, names the uncommitted paths, and the bundle holds the base', async () => {
  const { dir, base } = await userRepo('pack');
  const before = await fingerprint(dir);
  const packed = await packBase(dir, 'HEAD', store);
  expect(await fingerprint(dir)).toEqual(before);
  expect(packed.snapshot.base).toBe(base);
  expect(packed.snapshot.head).toBe(base);
  expect(packed.name).toBe('pack');
  expect(packed.snapshot.bundle.path).toBe(`repo/base-${base.slice(0, 12)}.bundle`);
  expect(packed.dirty.sort()).toEqual(['a.txt', 'staged.txt', 'untracked.txt']);
  expect(dirtyNotice(packed.dirty)).toMatch(/^Note: uncommitted changes are not part of the run: .*a\.txt/);
  // A worker rebuilds the base from the bundle alone.
  const bundle = path.join(tmp, 'check.bundle');
  await writeFile(bundle, await store.read(packed.snapshot.bundle));
  const copy = path.join(tmp, 'copy.git');
  await git(['init', '--quiet', '--bare', copy]);
  await git(['fetch', '--quiet', bundle, '+refs/*:refs/got/*'], { gitDir: copy });
  expect(await text(['rev-parse', `${base}^{tree}`], copy)).toBe(await text(['rev-parse', 'HEAD^{tree}'], dir));
  expect(await text(['rev-list', '--count', base], copy)).toBe('2');
});

test('--base picks another commit; a linked worktree packs through the shared object store', async () => {
  const { dir, first } = await userRepo('base-ref');
  const packed = await packBase(dir, 'HEAD~1', store);
  expect(packed.snapshot.base).toBe(first);
  const wt = path.join(tmp, 'linked');
  await git(['worktree', 'add', '--quiet', '--detach', wt, first], { cwd: dir });
  const fromWorktree = await packBase(wt, 'HEAD', store);
  expect(fromWorktree.snapshot.base).toBe(first);
  expect(fromWorktree.snapshot.bundle.sha256).toBe(packed.snapshot.bundle.sha256);
});

test('refusals say what to fix: no repository, bare, empty, unknown base, option-like base, shallow clone', async () => {
  const plain = path.join(tmp, 'plain');
  await mkdir(plain);
  await expect(packBase(plain, 'HEAD', store)).rejects.toThrow(/not a git repository/);
  await expect(packBase(path.join(tmp, 'nope'), 'HEAD', store)).rejects.toThrow(/no such folder/);
  const bare = path.join(tmp, 'bare.git');
  await git(['init', '--quiet', '--bare', bare]);
  await expect(packBase(bare, 'HEAD', store)).rejects.toThrow(/bare repository/);
  const empty = path.join(tmp, 'empty');
  await git(['init', '--quiet', empty]);
  await expect(packBase(empty, 'HEAD', store)).rejects.toThrow(/no commits yet/);
  const { dir } = await userRepo('refusals');
  await expect(packBase(dir, 'no-such-branch', store)).rejects.toThrow(/--base no-such-branch: no such commit/);
  await expect(packBase(dir, '--output=/tmp/x', store)).rejects.toThrow(/not a ref/);
  const shallow = path.join(tmp, 'shallow');
  await git(['clone', '--quiet', '--depth=1', `file://${dir}`, shallow]);
  await expect(packBase(shallow, 'HEAD', store)).rejects.toThrow(/shallow clone.*--unshallow/);
  for (const err of await Promise.allSettled([packBase(plain, 'HEAD', store)]))
    expect(err.status === 'rejected' && err.reason instanceof RepoInputError).toBe(true);
});

test('a hostile .git/config (fsmonitor, hooks, filter and diff drivers, includes) runs nothing while packing, mapping and fetching', async () => {
  const { dir } = await userRepo('hostile');
  const pwn = path.join(tmp, 'pwned');
  await mkdir(pwn);
  const hooks = path.join(tmp, 'hooks');
  await mkdir(hooks);
  const touch = (what: string) => `touch ${path.join(pwn, what)}; cat`;
  for (const h of [
    'reference-transaction',
    'post-checkout',
    'pre-auto-gc',
    'post-index-change',
    'post-merge',
    'fsmonitor-watchman',
  ]) {
    for (const where of [hooks, path.join(dir, '.git', 'hooks')]) {
      await writeFile(path.join(where, h), `#!/bin/sh\ntouch ${path.join(pwn, `${h}-${path.basename(where)}`)}\n`);
      await chmod(path.join(where, h), 0o755);
    }
  }
  await writeFile(path.join(dir, '.git', 'extra.cfg'), `[filter "inc"]\n\tclean = ${touch('include-clean')}\n`);
  const config = await readFile(path.join(dir, '.git', 'config'), 'utf8');
  await writeFile(
    path.join(dir, '.git', 'config'),
    config +
      `[core]\n\tfsmonitor = ${touch('fsmonitor')}\n\thooksPath = ${hooks}\n\tpager = ${touch('pager')}\n` +
      `[filter "evil"]\n\tclean = ${touch('clean')}\n\tsmudge = ${touch('smudge')}\n\tprocess = ${touch('process')}\n` +
      `[filter "a.b=c"]\n\tclean = ${touch('dotted-clean')}\n` +
      `[diff "evil"]\n\ttextconv = ${touch('textconv')}\n[include]\n\tpath = extra.cfg\n`,
  );
  await writeFile(
    path.join(dir, '.git', 'info', 'attributes'),
    '*.txt filter=evil diff=evil\na.txt filter=a.b=c\nb.txt filter=inc\n',
  );
  // Files whose stat no longer matches the index: status must look at their content.
  await writeFile(path.join(dir, 'b.txt'), 'changed\n');
  await writeFile(path.join(dir, 'a.txt'), 'changed again\n');
  const packed = await packBase(dir, 'HEAD', store);
  const repo = await openUserRepo(dir);
  await buildRepoMap((a, o) => userGit(repo, a, o), packed.snapshot.base, repo.name);
  // A branch of the run, fetched back into the hostile repository.
  const { bundle, head } = await runBranch(dir, packed.snapshot.base, 'maestro/hostile-1');
  expect(await deliverSeries(dir, bundle, { branch: 'maestro/hostile-1', base: packed.snapshot.base, head })).toBe(
    'created',
  );
  expect(await readdir(pwn)).toEqual([]);
  expect(packed.dirty).toEqual(expect.arrayContaining(['a.txt', 'b.txt']));
});

/** A run's branch as a worker makes it: commits on a copy of `base`, bundled as base..head under the branch. */
async function runBranch(repoDir: string, base: string, branch: string): Promise<{ bundle: string; head: string }> {
  const work = await mkdtemp(path.join(tmp, 'worker-'));
  await git(['clone', '--quiet', '--no-checkout', repoDir, work]);
  await git(['checkout', '--quiet', '-b', branch, base], { cwd: work });
  await writeFile(path.join(work, 'feature.txt'), `feature ${path.basename(work)}\n`);
  await git(['add', 'feature.txt'], { cwd: work });
  await git(['commit', '--quiet', '-m', 'T1: feature', '-m', 'Maestro-Ticket: T1'], { cwd: work });
  await writeFile(path.join(work, 'feature_test.txt'), 'test\n');
  await git(['add', 'feature_test.txt'], { cwd: work });
  await git(['commit', '--quiet', '-m', 'T2: its test', '-m', 'Maestro-Ticket: T2'], { cwd: work });
  const bundle = path.join(work, '..', `${path.basename(work)}.bundle`);
  await git(['bundle', 'create', '--quiet', bundle, `${base}..refs/heads/${branch}`], { cwd: work });
  return { bundle, head: await text(['rev-parse', 'HEAD'], work) };
}

test('fetching the branch adds only the branch: working tree, index, HEAD and stash unchanged; an existing other branch is refused', async () => {
  const { dir, base } = await userRepo('deliver');
  const branch = 'maestro/run-1';
  const { bundle, head } = await runBranch(dir, base, branch);
  const before = await fingerprint(dir);
  expect(await deliverSeries(dir, bundle, { branch, base, head })).toBe('created');
  const after = await fingerprint(dir);
  expect(await text(['rev-parse', `refs/heads/${branch}`], dir)).toBe(head);
  expect(await text(['rev-list', '--count', `${base}..${branch}`], dir)).toBe('2');
  expect(after.work).toEqual(before.work);
  expect({ head: after.head, status: after.status, stash: after.stash }).toEqual({
    head: before.head,
    status: before.status,
    stash: before.stash,
  });
  expect(
    after.gitFiles.filter((f) => f.startsWith('index ') || f.startsWith('HEAD ') || f.startsWith('FETCH_HEAD')),
  ).toEqual(before.gitFiles.filter((f) => f.startsWith('index ') || f.startsWith('HEAD ')));
  expect(after.refs.split('\n').sort()).toEqual(
    [...before.refs.split('\n'), `${head} commit\trefs/heads/${branch}`].sort(),
  );
  // Again: nothing to do.
  expect(await deliverSeries(dir, bundle, { branch, base, head })).toBe('exists');
  // Another run's branch of the same name is never overwritten.
  const other = await runBranch(dir, base, branch);
  await expect(deliverSeries(dir, other.bundle, { branch, base, head: other.head })).rejects.toThrow(
    /already exists .* it was not changed/,
  );
  expect(await text(['rev-parse', `refs/heads/${branch}`], dir)).toBe(head);
  // A repository without the base is told so.
  const stranger = path.join(tmp, 'stranger');
  await git(['init', '--quiet', stranger]);
  await writeFile(path.join(stranger, 'x'), 'x');
  await git(['add', 'x'], { cwd: stranger });
  await git(['commit', '--quiet', '-m', 'x'], { cwd: stranger });
  await expect(deliverSeries(stranger, bundle, { branch, base, head })).rejects.toThrow(/does not have the run's base/);
});

test('a 10,000-file repository packs and maps in reasonable time', async () => {
  const dir = path.join(tmp, 'big');
  const head = await generateRepo(dir, 10_000);
  const started = Date.now();
  const packed = await packBase(dir, 'HEAD', store);
  const repo = await openUserRepo(dir);
  const map = await buildRepoMap((a, o) => userGit(repo, a, o), head, repo.name);
  expect(packed.snapshot.base).toBe(head);
  expect(packed.dirty).toEqual([]);
  expect(map.tokens).toBeLessThanOrEqual(4000);
  expect(Date.now() - started).toBeLessThan(60_000);
}, 120_000);

test("the packed base opens on a worker (cache.ts), and the worker's series bundle is delivered as the branch", async () => {
  const { dir, base } = await userRepo('round-trip');
  const packed = await packBase(dir, 'HEAD', store);
  const gitDir = await openSnapshot(store, packed.snapshot, path.join(tmp, 'worker-copies'));
  // A ticket's commit on the worker: one new file on the base's tree.
  const blob = (await git(['hash-object', '-w', '--stdin'], { gitDir, input: 'limit = 10\n' })).stdout
    .toString()
    .trim();
  const tree = (
    await git(['mktree'], {
      gitDir,
      input: `${(await git(['ls-tree', base], { gitDir })).stdout.toString()}100644 blob ${blob}\tlimits.txt\n`,
    })
  ).stdout
    .toString()
    .trim();
  const head = (
    await git(['commit-tree', tree, '-p', base, '-m', 'T1: limits\n\nMaestro-Ticket: T1'], { gitDir })
  ).stdout
    .toString()
    .trim();
  const series = await storeSeries(store, gitDir, base, head, 'maestro/round-trip-1');
  const file = path.join(tmp, 'round-trip.bundle');
  await writeFile(file, await store.read(series));
  expect(await deliverSeries(dir, file, { branch: 'maestro/round-trip-1', base, head })).toBe('created');
  expect(await text(['show', 'maestro/round-trip-1:limits.txt'], dir)).toBe('limit = 10');
});
