/**
 * A repo ticket's tree (issue 20): the commit it started on (`start.head`, in a git dir of the
 * worker's snapshot cache) with the ticket's own files laid over it. The file tools read and list
 * it straight from git (no checkout); commands get it materialised into a workspace folder whose
 * index lives outside it, so what a command created or changed is read back with `git status`
 * (the repository's .gitignore respected) and becomes own files. The cache's git dir is never
 * written: objects hashed for the own files go to a scratch object folder of the workspace.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProducedFile } from '../../shared/schemas';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import {
  createScratch,
  createWorkspace,
  mkdirOpen,
  resolveInside,
  workspacePath,
  WorkspacePathError,
  type Workspace,
  type WorkspaceQuota,
} from '../tools/workspace';
import { git, gitText } from './git';
import { openSnapshot } from './cache';
import type { RepoWork } from '../../shared/repo';

/** A commit to work on: the git dir that holds it (see cache.ts `openSnapshot`) and its id. */
export interface RepoTree {
  gitDir: string;
  head: string;
}

/** One entry of the start tree. */
interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  bytes: number;
  path: string;
}

/** Pathspecs are taken literally (a file named `*` is that file, not every file). */
const LITERAL = { GIT_LITERAL_PATHSPECS: '1' };

/**
 * An agent-supplied path of a repo ticket, normalised as workspacePath does, refusing any `.git`
 * segment (git's own folder is never read or written by a tool, whatever its case).
 */
export function repoPath(raw: unknown): string {
  const rel = workspacePath(raw);
  if (rel.split('/').some((s) => s.toLowerCase().replace(/[. ]+$/, '') === '.git'))
    throw new WorkspacePathError(`"${rel}" is inside git's own folder (.git), which tools never touch`);
  return rel;
}

function parseEntries(out: Buffer, long: boolean): TreeEntry[] {
  const rows: TreeEntry[] = [];
  for (const rec of out.toString('utf8').split('\0')) {
    if (rec === '') continue;
    const tab = rec.indexOf('\t');
    const [mode = '', type = '', sha = '', size = ''] = rec.slice(0, tab).trim().split(/\s+/);
    rows.push({ mode, type, sha, bytes: long && size !== '-' ? Number(size) : 0, path: rec.slice(tab + 1) });
  }
  return rows;
}

/** Every file of the tree (recursively) with its size, optionally under a folder. */
async function treeFiles(tree: RepoTree, folder = ''): Promise<TreeEntry[]> {
  const out = await git(['ls-tree', '-r', '-l', '-z', tree.head, ...(folder ? ['--', folder] : [])], {
    gitDir: tree.gitDir,
    env: LITERAL,
  });
  return parseEntries(out.stdout, true);
}

/** The entries of `rel` and of every folder leading to it, outermost first. */
async function entriesAlong(tree: RepoTree, rel: string): Promise<TreeEntry[]> {
  const parts = rel.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  const out = await git(['ls-tree', '-t', '-z', tree.head, '--', ...prefixes], { gitDir: tree.gitDir, env: LITERAL });
  return parseEntries(out.stdout, false).filter((e) => prefixes.includes(e.path));
}

/**
 * Refuses a path that goes through a symbolic link or a file of the tree (e.g. `link/x` where
 * `link` points anywhere): own files are laid over the tree as plain files, never through links.
 */
export async function checkWritable(tree: RepoTree, rel: string): Promise<void> {
  for (const e of await entriesAlong(tree, rel)) {
    if (e.path === rel) {
      if (e.type === 'tree') throw new WorkspacePathError(`"${rel}" is a folder of the repository, not a file`);
      if (e.mode === '120000') throw new WorkspacePathError(`"${rel}" is a symbolic link in the repository`);
      if (e.mode === '160000') throw new WorkspacePathError(`"${rel}" is a submodule of the repository`);
    } else if (e.type !== 'tree') {
      throw new WorkspacePathError(`"${rel}" goes through "${e.path}", which is not a folder of the repository`);
    }
  }
}

/**
 * A model's answer files split into those that can be laid over the tree and the others, named
 * with the reason (a file over a folder, link or submodule, or under a file, could never merge).
 */
export async function splitWritable<T extends { path: string }>(
  tree: RepoTree,
  files: readonly T[],
): Promise<{ kept: T[]; dropped: string[] }> {
  const kept: T[] = [];
  const dropped: string[] = [];
  for (const f of files) {
    try {
      await checkWritable(tree, repoPath(f.path));
      kept.push(f);
    } catch (err) {
      if (!(err instanceof WorkspacePathError)) throw err;
      dropped.push(`${short(f.path)} (${err.message})`);
    }
  }
  return { kept, dropped };
}

/**
 * A model's answer files for its ticket: in a repo ticket, those that can be laid over its start
 * tree (the others are named in `dropped`); outside one, all of them.
 */
export async function answerFiles<T extends { path: string }>(
  store: ArtifactStore,
  repo: RepoWork | undefined,
  files: readonly T[],
): Promise<{ kept: T[]; dropped: string[] }> {
  if (!repo) return { kept: [...files], dropped: [] };
  return splitWritable({ gitDir: await openSnapshot(store, repo.start), head: repo.start.head }, files);
}

/** The note a summary gets for answer files left out (empty when none). */
export function droppedNote(dropped: readonly string[]): string {
  return dropped.length > 0 ? `\n\n(not kept: ${dropped.join('; ')}; deletions are not carried)` : '';
}

/** What reading a path of a ticket's tree found. */
export type TreeRead =
  | { kind: 'file'; content: Buffer; bytes: number }
  | { kind: 'link'; target: string }
  | { kind: 'folder' }
  | { kind: 'missing' };

/** Reads `rel` from the ticket's own files, else from the start tree (links are reported, not followed). */
export async function readTreePath(
  store: ArtifactStore,
  tree: RepoTree,
  own: readonly ArtifactRef[],
  raw: unknown,
  maxBytes = 16 * 1024 * 1024,
): Promise<TreeRead> {
  const rel = repoPath(raw);
  const mine = [...own].reverse().find((r) => r.path === rel);
  if (mine) return { kind: 'file', content: await store.read(mine), bytes: mine.bytes };
  const entry = (await entriesAlong(tree, rel)).find((e) => e.path === rel);
  if (!entry) return { kind: 'missing' };
  if (entry.type === 'tree') return { kind: 'folder' };
  if (entry.type !== 'blob') return { kind: 'missing' };
  const blob = await git(['cat-file', 'blob', entry.sha], { gitDir: tree.gitDir, maxBuffer: maxBytes + 1 }).catch(
    () => undefined,
  );
  if (entry.mode === '120000') return { kind: 'link', target: blob?.stdout.toString('utf8') ?? '?' };
  if (!blob) throw new WorkspacePathError(`"${rel}" is larger than ${maxBytes} bytes: too large to read whole`);
  return { kind: 'file', content: blob.stdout, bytes: blob.stdout.length };
}

/** One file of a ticket's tree as list_files shows it. */
export interface TreeListing {
  path: string;
  bytes: number;
  own: boolean;
  link: boolean;
}

/** The files of the start tree under `folder` merged with the own files (own sizes win), sorted. */
export async function listTree(tree: RepoTree, own: readonly ArtifactRef[], rawFolder = ''): Promise<TreeListing[]> {
  const folder = rawFolder.trim() === '' || rawFolder.trim() === '.' ? '' : repoPath(rawFolder);
  const rows = new Map<string, TreeListing>();
  for (const e of await treeFiles(tree, folder))
    rows.set(e.path, { path: e.path, bytes: e.bytes, own: false, link: e.mode === '120000' });
  for (const r of own)
    if (folder === '' || r.path.startsWith(`${folder}/`))
      rows.set(r.path, { path: r.path, bytes: r.bytes, own: true, link: false });
  return [...rows.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A materialised ticket tree: the workspace, plus its index and scratch objects (outside it). */
export interface TreeWorkspace extends Workspace {
  /** Environment that makes git see the workspace's index and scratch objects. */
  gitEnv: Record<string, string>;
  tree: RepoTree;
}

/**
 * Checks the start tree out into a fresh workspace (a tmpfs sized to the tree plus `quota` on a
 * root worker), then lays the own files over it and records them in the workspace's index, so
 * `treeChanges` reports only what a command did. The repository's hooks, filters and fsmonitor
 * never run (see git.ts); git itself refuses to check out through a symbolic link.
 */
export async function materialiseTree(
  store: ArtifactStore,
  tree: RepoTree,
  own: readonly ArtifactRef[],
  parent = os.tmpdir(),
  quota?: WorkspaceQuota,
): Promise<TreeWorkspace> {
  const size = await treeSize(tree, own);
  const ws = await createWorkspace(parent, size, quota);
  try {
    const out = await checkoutTree(store, tree, own, ws.dir, parent);
    return {
      dir: ws.dir,
      ...(ws.quota ? { quota: ws.quota } : {}),
      gitEnv: out.gitEnv,
      tree,
      dispose: async () => {
        await ws.dispose();
        await out.dispose();
      },
    };
  } catch (err) {
    await ws.dispose();
    throw err;
  }
}

/** Bytes and entries a checkout of the tree with the own files over it takes (for a workspace's size). */
export async function treeSize(
  tree: RepoTree,
  own: readonly ArtifactRef[],
): Promise<{ bytes: number; entries: number }> {
  const files = await treeFiles(tree);
  const dirs = new Set(
    files.flatMap((f) =>
      f.path
        .split('/')
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join('/')),
    ),
  );
  return {
    bytes: files.reduce((n, f) => n + f.bytes + 4096, 0) + own.reduce((n, r) => n + r.bytes + 4096, 0),
    entries: files.length + dirs.size + own.length * 4 + 1,
  };
}

/**
 * Checks the start tree out into the existing folder `dir` with the own files laid over it (see
 * materialiseTree); its index and scratch objects live in a folder under `scratchParent`, which
 * must be outside `dir` (and hidden from any sandbox that sees `dir`). `dispose` removes them.
 */
export async function checkoutTree(
  store: ArtifactStore,
  tree: RepoTree,
  own: readonly ArtifactRef[],
  dir: string,
  scratchParent: string,
): Promise<{ gitEnv: Record<string, string>; dispose: () => Promise<void> }> {
  const scratch = await createScratch(scratchParent);
  try {
    const env = await scratchEnv(scratch.dir, tree);
    const opts = { gitDir: tree.gitDir, workTree: dir, env };
    await git(['read-tree', tree.head], opts);
    await git(['checkout-index', '-a', '-f'], opts);
    await openUp(dir);
    const paths: string[] = [];
    for (const ref of own) {
      const rel = repoPath(ref.path);
      await checkWritable(tree, rel);
      const target = await resolveInside(dir, rel);
      await mkdirOpen(dir, path.dirname(target));
      await writeFile(target, await store.read(ref), { mode: 0o666 });
      await chmod(target, 0o666);
      paths.push(rel);
    }
    if (paths.length > 0)
      await git(['update-index', '--add', '-z', '--stdin'], { ...opts, input: `${paths.join('\0')}\0` });
    await git(['update-index', '-q', '--refresh'], { ...opts, okCodes: [1] });
    return { gitEnv: env, dispose: () => scratch.dispose() };
  } catch (err) {
    await scratch.dispose();
    throw err;
  }
}

/**
 * Git's environment for a scratch index and object folder: the cache's git dir is read through
 * an alternate and never written (two tickets on one snapshot share it).
 */
async function scratchEnv(scratch: string, tree: RepoTree): Promise<Record<string, string>> {
  await mkdir(path.join(scratch, 'objects'), { recursive: true });
  return {
    ...LITERAL,
    GIT_INDEX_FILE: path.join(scratch, 'index'),
    GIT_OBJECT_DIRECTORY: path.join(scratch, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(path.resolve(tree.gitDir), 'objects'),
  };
}

/** Makes every folder 0777 and every file writable by all (the sandbox runs as a uid of its own); links untouched. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await openUp(full);
    else if (e.isFile()) await chmod(full, ((await lstat(full)).mode & 0o777) | 0o666);
  }
}

/** Bounds of what one command may add to the own files (as builtin-tools' changedFiles). */
export interface ChangeBounds {
  maxFiles: number;
  maxBytes: number;
}

/**
 * The regular files a command created or changed in a materialised tree, relative to start plus
 * own files, as stored own files; ignored files (build output), links, `.git` paths, deletions
 * and files past the bounds are left out (`skipped` says why, for the ones worth saying).
 */
export async function treeChanges(
  store: ArtifactStore,
  ws: TreeWorkspace,
  own: readonly ArtifactRef[],
  bounds: ChangeBounds,
): Promise<{ written: ArtifactRef[]; skipped: string[] }> {
  const out = await git(
    ['status', '--porcelain', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules'],
    {
      gitDir: ws.tree.gitDir,
      workTree: ws.dir,
      env: ws.gitEnv,
    },
  );
  const before = new Map(own.map((r) => [r.path, r.sha256]));
  const written: ArtifactRef[] = [];
  const skipped: string[] = [];
  const records = out.stdout
    .toString('utf8')
    .split('\0')
    .filter((r) => r.length > 3);
  for (const rec of records) {
    const status = rec.slice(0, 2);
    const raw = rec.slice(3);
    // Only the second column says what the command did (work tree against the scratch index); the
    // first compares that index with the copy's HEAD, which is not the start: every file is "A" there.
    if (status[1] === ' ') continue;
    if (status.includes('D')) continue; // deletions are not carried
    if (written.length >= bounds.maxFiles) {
      skipped.push(`files beyond the first ${bounds.maxFiles} changed ones`);
      break;
    }
    let rel: string;
    try {
      rel = repoPath(raw);
    } catch (err) {
      skipped.push(`${short(raw)} (${(err as Error).message})`);
      continue;
    }
    if (!ProducedFile.safeParse({ path: rel, content: '' }).success) {
      skipped.push(`${short(rel)} (not a path the artifact store accepts)`);
      continue;
    }
    try {
      // A file in place of a folder, link or submodule, or under a file: it could never be merged.
      await checkWritable(ws.tree, rel);
    } catch (err) {
      if (!(err instanceof WorkspacePathError)) throw err;
      skipped.push(`${short(rel)} (${err.message}; deletions are not carried)`);
      continue;
    }
    let full: string;
    try {
      full = await resolveInside(ws.dir, rel);
    } catch {
      continue; // leads out of the workspace through a link the command made
    }
    const st = await lstat(full).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (st.size > bounds.maxBytes) {
      skipped.push(`${short(rel)} (larger than ${bounds.maxBytes} bytes)`);
      continue;
    }
    const bytes = await readFile(full);
    if (before.get(rel) === createHash('sha256').update(bytes).digest('hex')) continue;
    written.push(await store.put({ path: rel, content: bytes }));
  }
  return { written, skipped };
}

function short(p: string): string {
  return p.length > 80 ? `${p.slice(0, 60)}...${p.slice(-17)} (${p.length} characters)` : p;
}

/** The ticket's diff against its start (own files over the tree), bounded: what its review shows. */
export async function treeDiff(
  store: ArtifactStore,
  tree: RepoTree,
  own: readonly ArtifactRef[],
  maxChars: number,
): Promise<{ diff: string; truncated: boolean }> {
  const scratch = await createScratch(os.tmpdir());
  try {
    const opts = { gitDir: tree.gitDir, env: await scratchEnv(scratch.dir, tree) };
    await git(['read-tree', tree.head], opts);
    for (const ref of own) {
      const rel = repoPath(ref.path);
      await checkWritable(tree, rel);
      const mode = (await entriesAlong(tree, rel)).find((e) => e.path === rel)?.mode ?? '100644';
      const sha = await gitText(['hash-object', '-w', '--stdin', '--no-filters'], {
        ...opts,
        input: await store.read(ref),
      });
      await git(['update-index', '--add', '--cacheinfo', `${mode},${sha},${rel}`], opts);
    }
    const diff = (
      await git(['diff', '--cached', '--no-color', '--no-ext-diff', tree.head], {
        ...opts,
        maxBuffer: 64 * 1024 * 1024,
      })
    ).stdout.toString('utf8');
    return diff.length > maxChars ? { diff: diff.slice(0, maxChars), truncated: true } : { diff, truncated: false };
  } finally {
    await scratch.dispose();
  }
}
