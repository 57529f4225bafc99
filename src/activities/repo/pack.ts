/**
 * The client side of "the repository travels by content" (issue 20): the base commit of a
 * `maestro run --repo` is packed as a git bundle into the artifact store, and the run carries its
 * hash. The person's repository is only read: the bundle is made in a temporary bare repository
 * that borrows the objects through `objects/info/alternates`, so no ref, index refresh,
 * FETCH_HEAD or gc touches their checkout.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RepoSnapshot } from '../../shared/repo';
import type { ArtifactStore } from '../artifacts/store';
import { git, GitError, gitText } from './git';
import { openUserRepo, RepoInputError, userGit, type UserRepo } from './user-repo';

/** What packing the base gave: the snapshot the run starts from, and what to tell the person. */
export interface PackedBase {
  /** The base commit, packed (`head` is `base`). */
  snapshot: RepoSnapshot;
  /** The repository's folder name. */
  name: string;
  /** The repository's top folder (absolute). */
  top: string;
  /** Paths with uncommitted changes (modified, staged, untracked): not part of the run. */
  dirty: string[];
  /** The repository as opened (for the map and later git calls). */
  repo: UserRepo;
}

/**
 * A path as one line of `objects/info/alternates`: C-quoted when it holds a newline, a quote or a
 * backslash (git unquotes a line that starts with `"`), so a folder name cannot split it in two.
 */
export function alternatesLine(p: string): string {
  if (!/[\0-\x1f\x7f"\\]/.test(p)) return p;
  const body = [...p]
    .map((c) => {
      const n = c.charCodeAt(0);
      if (c === '"' || c === '\\') return `\\${c}`;
      return n < 0x20 || n === 0x7f ? `\\${n.toString(8).padStart(3, '0')}` : c;
    })
    .join('');
  return `"${body}"`;
}

/** The ref the base bundle names its commit by (a worker fetches every ref of it). */
export const BASE_BUNDLE_REF = 'refs/heads/base';

/**
 * Resolves `baseRef` (a branch, tag, commit id; default HEAD) to a commit of the repository.
 * Throws RepoInputError for an empty repository, an unknown ref, a shallow clone or a SHA-256
 * repository (runs carry SHA-1 commit ids).
 */
export async function resolveBase(repo: UserRepo, baseRef: string): Promise<string> {
  if (!baseRef || baseRef.startsWith('-') || /[\0-\x1f\x7f]/.test(baseRef))
    throw new RepoInputError(`--base ${JSON.stringify(baseRef)}: not a ref; give a branch, tag or commit id.`);
  const found = await userGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${baseRef}^{commit}`], {
    okCodes: [1, 128],
  });
  const commit = found.stdout.toString('utf8').trim();
  if (found.code !== 0 || !commit) {
    const anyRef = await userGit(repo, ['for-each-ref', '--count=1', '--format=%(refname)']);
    if (anyRef.stdout.length === 0)
      throw new RepoInputError(`--repo ${repo.top}: has no commits yet; commit something first, then run again.`);
    throw new RepoInputError(
      `--base ${baseRef}: no such commit in ${repo.top}; give a branch, tag or commit id that \`git log ${baseRef}\` shows.`,
    );
  }
  if (/^[0-9a-f]{64}$/.test(commit))
    throw new RepoInputError(`--repo ${repo.top}: is a SHA-256 repository, which runs do not support yet.`);
  if ((await gitText(['rev-parse', '--is-shallow-repository'], { cwd: repo.top, env: repo.env })) === 'true')
    throw new RepoInputError(
      `--repo ${repo.top}: is a shallow clone, so the base's history is missing; run \`git fetch --unshallow\` first.`,
    );
  return commit;
}

/**
 * Uncommitted paths (modified, staged, deleted, untracked), read without writing the index
 * (GIT_OPTIONAL_LOCKS=0) and without entering submodules. Paths come back as git stores them.
 */
export async function dirtyPaths(repo: UserRepo): Promise<string[]> {
  const out = await userGit(repo, ['status', '--porcelain=v1', '-z', '--ignore-submodules=all', '--no-renames']);
  return out.stdout
    .toString('utf8')
    .split('\0')
    .filter((e) => e.length > 3)
    .map((e) => e.slice(3));
}

/**
 * Packs commit `baseRef` of the repository at `repoPath` into `store` as a bundle of its whole
 * history (`repo/base-<sha12>.bundle`), and lists the uncommitted paths the run will not see.
 */
export async function packBase(repoPath: string, baseRef: string, store: ArtifactStore): Promise<PackedBase> {
  return packRepo(await openUserRepo(repoPath), baseRef, store);
}

/** `packBase` on a repository already opened (see user-repo.ts). */
export async function packRepo(repo: UserRepo, baseRef: string, store: ArtifactStore): Promise<PackedBase> {
  const base = await resolveBase(repo, baseRef);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'maestro-pack-'));
  try {
    const gitDir = path.join(tmp, 'borrow.git');
    await mkdir(path.join(gitDir, 'objects', 'info'), { recursive: true });
    await mkdir(path.join(gitDir, 'refs'), { recursive: true });
    await writeFile(path.join(gitDir, 'HEAD'), `ref: ${BASE_BUNDLE_REF}\n`);
    await writeFile(path.join(gitDir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = true\n');
    await writeFile(
      path.join(gitDir, 'objects', 'info', 'alternates'),
      `${alternatesLine(path.join(repo.commonDir, 'objects'))}\n`,
    );
    await git(['update-ref', BASE_BUNDLE_REF, base], { gitDir });
    const file = path.join(tmp, 'base.bundle');
    try {
      await git(['-c', 'pack.threads=1', 'bundle', 'create', '--quiet', file, BASE_BUNDLE_REF], { gitDir });
    } catch (err) {
      if (err instanceof GitError)
        throw new RepoInputError(
          `--repo ${repo.top}: could not pack ${base.slice(0, 12)}: objects of its history are missing (a partial or damaged clone?): ${err.message}. Try \`git fsck\` or a full clone.`,
        );
      throw err;
    }
    const bundle = await store.put({ path: `repo/base-${base.slice(0, 12)}.bundle`, content: await readFile(file) });
    const dirty = await dirtyPaths(repo);
    return { snapshot: { bundle, base, head: base }, name: repo.name, top: repo.top, dirty, repo };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The notice printed when uncommitted changes exist: at most `max` paths, then a count. */
export function dirtyNotice(dirty: readonly string[], max = 10): string | undefined {
  if (dirty.length === 0) return undefined;
  const shown = dirty.slice(0, max).map((p) => JSON.stringify(p).slice(1, -1));
  const more = dirty.length > max ? ` and ${dirty.length - max} more` : '';
  return `Note: uncommitted changes are not part of the run: ${shown.join(', ')}${more}. Commit them first to include them.`;
}
