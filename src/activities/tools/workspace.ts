/**
 * A ticket's workspace: the files of its declared dependencies plus its own, materialised from the
 * artifact store into a fresh folder for every tool call, so a tool sees exactly what the ticket
 * may see and a crashed call leaves nothing behind. Every path an agent names is checked here: no
 * absolute paths, no `..`, no symlinks out of the folder.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, statfs, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { ownerAlive, ownerOf, ownerTag } from './process-owner';

/** A path an agent asked for that lies outside its workspace (or is not a valid path at all). */
export class WorkspacePathError extends Error {
  override name = 'WorkspacePathError';
}

/** The files a ticket's workspace holds: dependency outputs first, then its own (own files win). */
export interface WorkspaceFiles {
  dependencies: ArtifactRef[];
  own: ArtifactRef[];
}

/** A materialised workspace; `dispose()` removes it. */
export interface Workspace {
  dir: string;
  /** Set when the workspace is a size- and inode-limited tmpfs (the worker runs as root). */
  quota?: WorkspaceQuota;
  dispose(): Promise<void>;
}

/** What a command may add to its workspace: bytes, and files plus folders. */
export interface WorkspaceQuota {
  bytes: number;
  entries: number;
}

/** Prefix of workspace folders; the owning worker's tag follows, so stale ones can be told apart. */
const WS_PREFIX = 'maestro-ws-';

const run = promisify(execFile);

const MAX_PATH_CHARS = 200;

/**
 * The normalised relative form of an agent-supplied path, or a WorkspacePathError that says what
 * is wrong. Accepts `./a/b`, `a//b`; refuses absolute paths, `..` segments, NUL bytes and `~`.
 */
export function workspacePath(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new WorkspacePathError('a path is required: give a file path relative to the workspace, e.g. "index.html"');
  const p = raw.trim();
  if (p.length > MAX_PATH_CHARS) throw new WorkspacePathError(`path longer than ${MAX_PATH_CHARS} characters`);
  if (p.includes('\0')) throw new WorkspacePathError('path contains a NUL byte');
  if (path.isAbsolute(p) || p.startsWith('~') || /^[A-Za-z]:/.test(p))
    throw new WorkspacePathError(`"${p}" is absolute: paths are relative to the workspace, e.g. "src/app.js"`);
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new WorkspacePathError(`"${p}" leaves the workspace ("..")`);
  return parts.join('/');
}

/**
 * The absolute location of `rel` inside `dir`, refusing any path whose existing part resolves
 * (through symlinks) outside the workspace.
 */
export async function resolveInside(dir: string, rel: string): Promise<string> {
  const root = await realpath(dir);
  const norm = workspacePath(rel === '' ? '.' : rel).split('/');
  let current = root;
  for (const part of norm.filter((s) => s !== '')) {
    const next = path.join(current, part);
    let isLink = false;
    try {
      isLink = (await lstat(next)).isSymbolicLink();
    } catch {
      current = next; // does not exist (yet): nothing to follow
      continue;
    }
    current = isLink ? await realpath(next).catch(() => next) : next;
    if (current !== root && !current.startsWith(`${root}${path.sep}`))
      throw new WorkspacePathError(`"${rel}" leads outside the workspace (through a symbolic link)`);
  }
  return current;
}

const isRoot = () => process.getuid?.() === 0;

/** Whether `dir` is a mount point (its own tmpfs). */
async function mounted(dir: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return info.split('\n').some((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' ') === dir);
}

async function removeWorkspace(dir: string): Promise<void> {
  if (await mounted(dir)) await run('umount', ['-l', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/**
 * A fresh, empty workspace folder (0777, so the sandbox's unprivileged user can write), named
 * after its worker so a stale one can be cleaned. With `quota` and a root worker it is a tmpfs
 * sized to `content` plus the quota's bytes and entries, so the kernel refuses what a command
 * writes beyond it (ENOSPC).
 */
export async function createWorkspace(
  parent: string,
  content: { bytes: number; entries: number },
  quota?: WorkspaceQuota,
): Promise<Workspace> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, `${WS_PREFIX}${ownerTag()}-`));
  let limited: WorkspaceQuota | undefined;
  try {
    if (quota && isRoot()) {
      const bytes = content.bytes + quota.bytes;
      const entries = content.entries + quota.entries;
      await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},nr_inodes=${entries},mode=0777`, 'maestro-ws', dir]);
      limited = quota;
    }
    await chmod(dir, 0o777);
  } catch (err) {
    await removeWorkspace(dir);
    throw err;
  }
  return { dir, ...(limited ? { quota: limited } : {}), dispose: () => removeWorkspace(dir) };
}

/** A fresh folder of the worker's own (not a workspace: never shown to a sandbox), cleaned like one when stale. */
export async function createScratch(parent: string): Promise<{ dir: string; dispose(): Promise<void> }> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, `${WS_PREFIX}${ownerTag()}-`));
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes the refs' contents into a fresh workspace folder (see createWorkspace): dependency files
 * first, then the ticket's own (own files win).
 */
export async function materialise(
  store: ArtifactStore,
  files: WorkspaceFiles,
  parent = os.tmpdir(),
  quota?: WorkspaceQuota,
): Promise<Workspace> {
  const byPath = new Map<string, ArtifactRef>();
  for (const ref of [...files.dependencies, ...files.own]) byPath.set(workspacePath(ref.path), ref);
  const ws = await createWorkspace(
    parent,
    {
      bytes: [...byPath.values()].reduce((n, r) => n + r.bytes + 4096, 0),
      entries: [...byPath.keys()].reduce((n, p) => n + p.split('/').length, 1),
    },
    quota,
  );
  try {
    for (const [rel, ref] of byPath) {
      const target = path.join(ws.dir, rel);
      await mkdirOpen(ws.dir, path.dirname(target));
      await writeFile(target, await store.read(ref), { mode: 0o666 });
    }
  } catch (err) {
    await ws.dispose();
    throw err;
  }
  return ws;
}

/** Which of a workspace's quotas are used up (free bytes below 1 MiB, no free inodes). */
export async function quotaReached(ws: Workspace): Promise<{ bytes: boolean; entries: boolean }> {
  if (!ws.quota) return { bytes: false, entries: false };
  const s = await statfs(ws.dir).catch(() => undefined);
  if (!s) return { bytes: false, entries: false };
  return { bytes: s.bavail * s.bsize < 1024 * 1024, entries: s.ffree === 0 };
}

/**
 * Removes workspace folders under `parent` whose worker process is dead (a SIGKILLed worker
 * leaves its folder behind); folders of live workers, on this host or not yet tagged, are kept.
 * Returns the removed folders.
 */
export async function cleanStaleWorkspaces(parent = os.tmpdir()): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const owner = ownerOf(n, WS_PREFIX);
    if (owner === undefined || ownerAlive(owner)) continue;
    const dir = path.join(parent, n);
    await removeWorkspace(dir);
    removed.push(dir);
  }
  return removed;
}

/** Creates the folders down to `target` (inside `root`), each writable by the sandbox user. */
export async function mkdirOpen(root: string, target: string): Promise<void> {
  const rel = path.relative(root, target);
  if (rel === '') return;
  let current = root;
  for (const part of rel.split(path.sep)) {
    current = path.join(current, part);
    await mkdir(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await chmod(current, 0o777);
  }
}

/** One entry of `list_files`. */
export interface ListedFile {
  path: string;
  bytes: number;
}

/**
 * Files under `rel` (recursively, at most `limit`), as workspace-relative paths; links are not
 * followed. The walk visits at most `maxEntries` files and folders, so a command that made
 * millions of empty folders cannot stall it.
 */
export async function listFiles(
  dir: string,
  rel = '',
  limit = 500,
  maxEntries = 20_000,
): Promise<{ files: ListedFile[]; more: boolean }> {
  const start = await resolveInside(dir, rel || '.');
  const root = await realpath(dir);
  const files: ListedFile[] = [];
  let more = false;
  let seen = 0;
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (++seen > maxEntries) {
        more = true;
        return;
      }
      const full = path.join(folder, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        if (files.length >= limit) {
          more = true;
          return;
        }
        files.push({ path: path.relative(root, full).split(path.sep).join('/'), bytes: (await lstat(full)).size });
      }
    }
  };
  await walk(start);
  return { files, more };
}
