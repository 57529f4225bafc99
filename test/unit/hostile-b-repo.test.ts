/**
 * Hostile review (issue 20, hostile-b): the person's repository configuration must not run a
 * command while `maestro result --repo` fetches the run's branch back. `git fetch` of a bundle
 * path still applies `url.<x>.insteadOf` (rewriting the path to an `ext::` command transport the
 * repository allows) and runs `core.alternateRefsCommand` when the repository borrows objects;
 * neither is a driver user-repo.ts neutralises.
 */
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { deliverSeries } from '../../src/activities/repo/deliver';
import { git } from '../../src/activities/repo/git';
import { packBase } from '../../src/activities/repo/pack';
import { openUserRepo, RepoInputError } from '../../src/activities/repo/user-repo';
import { prepareRepoRun } from '../../src/client/repo-run';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hostile-b-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const text = async (args: string[], cwd: string) => (await git(args, { cwd })).stdout.toString('utf8').trim();

async function repoWithBranch(name: string) {
  const dir = path.join(tmp, name);
  await git(['init', '--quiet', '--initial-branch=main', dir]);
  await writeFile(path.join(dir, 'a.txt'), 'one\n');
  await git(['add', '-A'], { cwd: dir });
  await git(['commit', '--quiet', '-m', 'first'], { cwd: dir });
  const base = await text(['rev-parse', 'HEAD'], dir);
  const work = path.join(tmp, `${name}-worker`);
  await git(['clone', '--quiet', '--no-checkout', dir, work]);
  await git(['checkout', '--quiet', '-b', 'maestro/r1', base], { cwd: work });
  await writeFile(path.join(work, 'f.txt'), 'feature\n');
  await git(['add', 'f.txt'], { cwd: work });
  await git(['commit', '--quiet', '-m', 'T1: feature'], { cwd: work });
  const head = await text(['rev-parse', 'HEAD'], work);
  const bundle = path.join(tmp, `${name}-series.bundle`);
  await git(['bundle', 'create', '--quiet', bundle, `${base}..refs/heads/maestro/r1`], { cwd: work });
  return { dir, base, head, bundle };
}

test('fetching the branch back runs no url.insteadOf ext:: transport from the repository config', async () => {
  const { dir, base, head, bundle } = await repoWithBranch('insteadof');
  const pwn = path.join(tmp, 'pwn-ext');
  await mkdir(pwn);
  await git(['config', 'protocol.ext.allow', 'always'], { cwd: dir });
  await git(['config', `url.ext::sh -c touch% ${pwn}/ran.insteadOf`, `${tmp}/`], { cwd: dir });
  // Whether or not the delivery succeeds, nothing may have run.
  await deliverSeries(dir, bundle, { branch: 'maestro/r1', base, head }).catch(() => undefined);
  expect(await readdir(pwn)).toEqual([]);
  expect(await text(['rev-parse', 'refs/heads/maestro/r1'], dir)).toBe(head);
});

test('fetching the branch back runs no core.alternateRefsCommand of a repository that borrows objects', async () => {
  const { dir, base, head, bundle } = await repoWithBranch('alternates');
  const lender = path.join(tmp, 'lender');
  await git(['init', '--quiet', '--bare', lender]);
  await writeFile(path.join(dir, '.git', 'objects', 'info', 'alternates'), `${path.join(lender, 'objects')}\n`);
  const pwn = path.join(tmp, 'pwn-alt');
  await mkdir(pwn);
  await git(['config', 'core.alternateRefsCommand', `touch ${pwn}/ran; true`], { cwd: dir });
  expect(await deliverSeries(dir, bundle, { branch: 'maestro/r1', base, head })).toBe('created');
  expect(await readdir(pwn)).toEqual([]);
  // Only the branch: HEAD, main, no FETCH_HEAD.
  expect(await text(['symbolic-ref', 'HEAD'], dir)).toBe('refs/heads/main');
  expect(await text(['rev-parse', 'main'], dir)).toBe(base);
  expect(await readdir(path.join(dir, '.git'))).not.toContain('FETCH_HEAD');
});

test('a repository whose folder name ends in a space or holds a newline is the one packed, not a sibling', async () => {
  const store = new FsArtifactStore(path.join(tmp, 'store'));
  const parent = path.join(tmp, 'names');
  const made: Record<string, string> = {};
  for (const name of ['proj', 'proj ', 'a', 'a\nb', 'b\\s"q\tt']) {
    const dir = path.join(parent, name);
    await git(['init', '--quiet', dir]);
    await writeFile(path.join(dir, 'who.txt'), `${JSON.stringify(name)}\n`);
    await git(['add', '-A'], { cwd: dir });
    await git(['commit', '--quiet', '-m', `repo ${JSON.stringify(name)}`], { cwd: dir });
    made[name] = await text(['rev-parse', 'HEAD'], dir);
  }
  for (const name of ['proj ', 'a\nb', 'b\\s"q\tt']) {
    const dir = path.join(parent, name);
    expect((await openUserRepo(dir)).top).toBe(dir);
    expect((await packBase(dir, 'HEAD', store)).snapshot.base).toBe(made[name]);
  }
});

const asRoot = process.getuid?.() === 0 ? test : test.skip;
asRoot('a repository planted by another user above --repo is refused, as git itself refuses it', async () => {
  const shared = path.join(tmp, 'shared');
  await git(['init', '--quiet', shared]);
  await writeFile(path.join(shared, 'x.txt'), 'planted\n');
  await git(['add', '-A'], { cwd: shared });
  await git(['commit', '--quiet', '-m', 'planted'], { cwd: shared });
  const mine = path.join(shared, 'my-project');
  await mkdir(mine);
  // The stranger owns the repository (its .git); the person runs on "their" folder inside it.
  const chownR = async (p: string): Promise<void> => {
    await chown(p, 65534, 65534);
    for (const e of await readdir(p, { withFileTypes: true }).catch(() => []))
      if (e.isDirectory()) await chownR(path.join(p, e.name));
      else await chown(path.join(p, e.name), 65534, 65534);
  };
  await chownR(path.join(shared, '.git'));
  await chown(shared, 65534, 65534);
  await expect(openUserRepo(mine)).rejects.toThrow(RepoInputError);
  await expect(openUserRepo(mine)).rejects.toThrow(/owned by someone else|safe\.directory/);
});

test('a forged series bundle naming main, HEAD and extra refs moves nothing but the new branch', async () => {
  const { dir, base, head } = await repoWithBranch('forged');
  const work = path.join(tmp, 'forged-worker');
  await git(['update-ref', 'refs/heads/main', head], { cwd: work });
  await git(['update-ref', 'refs/tags/v9', head], { cwd: work });
  const bundle = path.join(tmp, 'forged-all.bundle');
  await git(['bundle', 'create', '--quiet', bundle, 'HEAD', 'refs/heads/main', 'refs/tags/v9', `^${base}`], {
    cwd: work,
  });
  const refsBefore = await text(['for-each-ref', '--format=%(refname) %(objectname)'], dir);
  expect(await deliverSeries(dir, bundle, { branch: 'maestro/r1', base, head })).toBe('created');
  const refsAfter = (await text(['for-each-ref', '--format=%(refname) %(objectname)'], dir)).split('\n');
  expect(refsAfter.sort()).toEqual([...refsBefore.split('\n'), `refs/heads/maestro/r1 ${head}`].sort());
  expect(await text(['symbolic-ref', 'HEAD'], dir)).toBe('refs/heads/main');
  expect(await text(['status', '--porcelain'], dir)).toBe('');
  // A bundle of another history (its head does not descend from the base) is refused, no branch made.
  const tree = await text(['rev-parse', `${head}^{tree}`], work);
  const strangerHead = (await git(['commit-tree', tree, '-m', 'orphan'], { cwd: work })).stdout.toString().trim();
  await git(['update-ref', 'refs/heads/orphan', strangerHead], { cwd: work });
  const strangerBundle = path.join(tmp, 'orphan.bundle');
  await git(['bundle', 'create', '--quiet', strangerBundle, 'refs/heads/orphan'], { cwd: work });
  await expect(
    deliverSeries(dir, strangerBundle, { branch: 'maestro/r2', base, head: strangerHead }),
  ).rejects.toThrow();
  expect(await text(['for-each-ref', '--format=%(refname)', 'refs/heads/maestro/r2'], dir)).toBe('');
});

test('a run whose branch maestro/<runId> cannot be created (a branch named "maestro" exists) is refused before it starts', async () => {
  const { dir } = await repoWithBranch('dfconflict');
  await git(['branch', 'maestro'], { cwd: dir });
  const home = path.join(tmp, 'home-df');
  await mkdir(home, { recursive: true });
  const config = {
    home,
    roles: [],
    llm: { workerModel: 'm' },
  } as unknown as Parameters<typeof prepareRepoRun>[0]['config'];
  await expect(prepareRepoRun({ config, runId: 'run-1', repoPath: dir, log: () => undefined })).rejects.toThrow(
    /branch maestro is in its way/,
  );
  // The same repository without that branch prepares.
  await git(['branch', '-m', 'maestro', 'mine'], { cwd: dir });
  expect((await prepareRepoRun({ config, runId: 'run-1', repoPath: dir, log: () => undefined })).repo.branch).toBe(
    'maestro/run-1',
  );
});
