/**
 * The folder one CLI attempt runs in, rebuilt from the artifact store every attempt (so a crashed
 * worker's retry starts from the recorded state, and nothing of a failed attempt leaks into the
 * next): `space/` is the ticket's space (its dependencies' files, its own files of the previous
 * attempt), `ctl/` what Maestro gives the CLI (prompt file, empty HOME, forwarder, the gateway's
 * socket, the event stream). The sandbox sees the folder at /tmp/ws. The result is what changed
 * in `space/`, read back like run_command's changed files.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProducedFile } from '../../shared/schemas';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import {
  listFiles,
  materialise,
  resolveInside,
  workspacePath,
  type Workspace,
  type WorkspaceFiles,
  type WorkspaceQuota,
} from '../tools/workspace';
import { SANDBOX_WORKDIR } from '../tools/sandbox-command';

/** The ticket's space inside the attempt folder. */
export const SPACE_DIR = 'space';
/** Maestro's control folder inside the attempt folder. */
export const CTL_DIR = 'ctl';

/** Paths of one attempt folder, on the worker (`host`) and inside the sandbox (`inside`). */
export interface AttemptFolder {
  ws: Workspace;
  host: { root: string; space: string; ctl: string; home: string; events: string; stderr: string; socket: string };
  inside: { space: string; ctl: string; home: string; promptFile: string; forwarder: string };
  /** The files the space started with, by path (changes are measured against them). */
  before: Map<string, ArtifactRef>;
}

/** Changed files kept per attempt, and the largest one. */
const MAX_KEPT_FILES = 50;
const MAX_KEPT_BYTES = 1_000_000;

/**
 * Materialises an attempt folder: the space's files under `space/` (own files win over the
 * dependencies'), an empty `ctl/home`, all writable by the sandbox's user.
 */
export async function prepareAttemptFolder(
  store: ArtifactStore,
  files: WorkspaceFiles,
  parent: string | undefined,
  quota: WorkspaceQuota | undefined,
): Promise<AttemptFolder> {
  const under = (r: ArtifactRef): ArtifactRef => ({ ...r, path: `${SPACE_DIR}/${workspacePath(r.path)}` });
  const ws = await materialise(
    store,
    { dependencies: files.dependencies.map(under), own: files.own.map(under) },
    parent,
    quota,
  );
  const root = ws.dir;
  const host = {
    root,
    space: path.join(root, SPACE_DIR),
    ctl: path.join(root, CTL_DIR),
    home: path.join(root, CTL_DIR, 'home'),
    events: path.join(root, CTL_DIR, 'events.jsonl'),
    stderr: path.join(root, CTL_DIR, 'stderr.log'),
    socket: path.join(root, CTL_DIR, 'gateway.sock'),
  };
  try {
    for (const d of [host.space, host.ctl, host.home]) {
      await mkdir(d, { recursive: true });
      await chmod(d, 0o777);
    }
    for (const f of [host.events, host.stderr]) await writeFile(f, '', { mode: 0o666 }).then(() => chmod(f, 0o666));
    // The CLI runs as the sandbox's own user and edits the space's files in place (a revision
    // continues on its own files): every file and folder there is writable by it.
    await openUp(host.space);
  } catch (err) {
    await ws.dispose();
    throw err;
  }
  const before = new Map<string, ArtifactRef>();
  for (const r of [...files.dependencies, ...files.own]) before.set(workspacePath(r.path), r);
  const ctlIn = `${SANDBOX_WORKDIR}/${CTL_DIR}`;
  return {
    ws,
    host,
    inside: {
      space: `${SANDBOX_WORKDIR}/${SPACE_DIR}`,
      ctl: ctlIn,
      home: `${ctlIn}/home`,
      promptFile: `${ctlIn}/prompt.md`,
      forwarder: `${ctlIn}/forwarder.cjs`,
    },
    before,
  };
}

/** Makes every file and folder under `dir` writable by the sandbox's user (no links followed). */
async function openUp(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      await chmod(full, 0o777);
      await openUp(full);
    } else if (e.isFile()) await chmod(full, 0o666);
  }
}

/** Writes a file of the control folder (readable by the sandbox's user). */
export async function writeCtl(folder: AttemptFolder, name: string, content: string): Promise<void> {
  const file = path.join(folder.host.ctl, name);
  await writeFile(file, content, { mode: 0o644 });
}

/** Writes the CLI's HOME files (relative paths; folders writable by the sandbox's user). */
export async function writeHomeFiles(
  folder: AttemptFolder,
  files: readonly { path: string; content: string }[],
): Promise<void> {
  for (const f of files) {
    const rel = workspacePath(f.path);
    const target = path.join(folder.host.home, rel);
    let dir = folder.host.home;
    for (const part of path
      .dirname(rel)
      .split('/')
      .filter((p) => p !== '.')) {
      dir = path.join(dir, part);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
    }
    await writeFile(target, f.content, { mode: 0o666 });
    await chmod(target, 0o666);
  }
}

/**
 * Whether the space is still the folder Maestro made: the sandbox's user may write the attempt
 * folder, so a CLI could replace `space/` with a link (to `/`, say); read back through it, the
 * worker's own files would become the ticket's result. Undefined when intact, else why not.
 */
export async function spaceReplaced(folder: AttemptFolder): Promise<string | undefined> {
  const st = await lstat(folder.host.space).catch(() => undefined);
  if (!st) return 'the CLI removed its space (the folder it was started in)';
  if (!st.isDirectory()) return 'the CLI replaced its space (the folder it was started in) with a link or a file';
  return undefined;
}

/** What the CLI changed in the space, stored; and what was not kept, with why. */
export async function changedFiles(
  store: ArtifactStore,
  folder: AttemptFolder,
): Promise<{ written: ArtifactRef[]; skipped: string[] }> {
  const { files, more } = await listFiles(folder.host.space, '', 5000);
  const written: ArtifactRef[] = [];
  const skipped: string[] = more ? ['files beyond the first 5000 were not looked at'] : [];
  for (const f of files) {
    const parts = f.path.split('/');
    if (parts.includes('node_modules') || parts.includes('.git')) continue;
    if (written.length >= MAX_KEPT_FILES) {
      skipped.push(`files beyond the first ${MAX_KEPT_FILES} changed ones`);
      break;
    }
    if (f.bytes > MAX_KEPT_BYTES) {
      skipped.push(`${f.path.slice(0, 120)} (larger than ${MAX_KEPT_BYTES} bytes)`);
      continue;
    }
    let rel: string;
    try {
      rel = workspacePath(f.path);
    } catch (err) {
      skipped.push(`${f.path.slice(0, 120)} (${(err as Error).message})`);
      continue;
    }
    // A name with a backslash is one file on Linux but a folder path to the store: not kept.
    if (rel !== f.path) {
      skipped.push(`${JSON.stringify(f.path.slice(0, 120))} (not a plain relative path)`);
      continue;
    }
    if (!ProducedFile.safeParse({ path: rel, content: '' }).success) {
      skipped.push(`${rel.slice(0, 120)} (not a path the artifact store accepts)`);
      continue;
    }
    const full = await resolveInside(folder.host.space, rel);
    if (!(await lstat(full).catch(() => undefined))?.isFile()) continue;
    const bytes = await readFile(full);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (folder.before.get(rel)?.sha256 === sha) continue;
    written.push(await store.put({ path: rel, content: bytes }));
  }
  return { written, skipped };
}
