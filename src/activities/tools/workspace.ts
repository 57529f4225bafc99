/**
 * A ticket's workspace: the files of its declared dependencies plus its own, materialised from the
 * artifact store into a fresh folder for every tool call, so a tool sees exactly what the ticket
 * may see and a crashed call leaves nothing behind. Every path an agent names is checked here: no
 * absolute paths, no `..`, no symlinks out of the folder.
 */
import { lstat, mkdir, mkdtemp, readdir, realpath, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';

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
  dispose(): Promise<void>;
}

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

/** Writes the refs' contents into a fresh folder (0777, so the sandbox's unprivileged user can write). */
export async function materialise(
  store: ArtifactStore,
  files: WorkspaceFiles,
  parent = os.tmpdir(),
): Promise<Workspace> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, 'maestro-ws-'));
  await chmod(dir, 0o777);
  const byPath = new Map<string, ArtifactRef>();
  for (const ref of [...files.dependencies, ...files.own]) byPath.set(workspacePath(ref.path), ref);
  for (const [rel, ref] of byPath) {
    const target = path.join(dir, rel);
    await mkdirOpen(dir, path.dirname(target));
    await writeFile(target, await store.read(ref), { mode: 0o666 });
  }
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Creates the folders down to `target` (inside `root`), each writable by the sandbox user. */
async function mkdirOpen(root: string, target: string): Promise<void> {
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

/** Files under `rel` (recursively, at most `limit`), as workspace-relative paths; links are not followed. */
export async function listFiles(dir: string, rel = '', limit = 500): Promise<{ files: ListedFile[]; more: boolean }> {
  const start = await resolveInside(dir, rel || '.');
  const root = await realpath(dir);
  const files: ListedFile[] = [];
  let more = false;
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
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
