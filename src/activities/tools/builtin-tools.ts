/**
 * Executes the built-in tools over a ticket's workspace. A tool's own failure (a bad path, a
 * refused command, a failing test) is a result the agent reads and reacts to, never an activity
 * failure; only infrastructure problems (a missing artifact) throw.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProducedFile } from '../../shared/schemas';
import type { AgentSettings, BuiltInTool } from '../../shared/tools';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { BrowserUnavailable, checkPage } from './check-page';
import {
  DEFAULT_SANDBOX_LIMITS,
  detectIsolation,
  parseCommand,
  runSandboxed,
  SandboxRefusal,
  type Isolation,
} from './sandbox';
import { readToolArguments } from './tool-arguments';
import { repoListTool, repoReadTool, type RepoOpener } from './repo-tools';
import { bounded, invalidCall, toolError, unavailableTool, type ToolOutcome } from './tool-outcome';

export { bounded, invalidCall, toolError, unavailableTool, type ToolOutcome } from './tool-outcome';
import { defaultRepoParent } from '../repo/cache';
import { checkWritable, materialiseTree, readTreePath, repoPath, treeChanges, type TreeWorkspace } from '../repo/tree';
import { TOOLCHAIN_TMP_MB, workerToolchains } from './sandbox-toolchains';
import {
  listFiles,
  materialise,
  quotaReached,
  resolveInside,
  workspacePath,
  WorkspacePathError,
  type WorkspaceFiles,
} from './workspace';

/** What a tool needs to run for one ticket. */
export interface ToolContext {
  store: ArtifactStore;
  files: WorkspaceFiles;
  settings: AgentSettings;
  /** Folders the sandbox covers (MAESTRO_HOME, the artifact store). */
  hide: string[];
  /** Parent folder of the fresh workspace folders (default: the OS temp folder). */
  workspaceParent?: string;
  /** Forces an isolation (tests); default: the strongest the machine offers. */
  isolation?: Isolation;
  signal?: AbortSignal;
  /**
   * Repo tickets: the tree the ticket works on (opened on first use). Its tools see that tree with
   * the own files laid over it; `files.dependencies` are ignored (they are in the tree already).
   */
  repo?: RepoOpener;
}

function refsByPath(files: WorkspaceFiles): Map<string, ArtifactRef> {
  const map = new Map<string, ArtifactRef>();
  for (const ref of [...files.dependencies, ...files.own]) map.set(workspacePath(ref.path), ref);
  return map;
}

async function readTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  if (ctx.repo) return repoReadTool(ctx.store, ctx.repo, ctx.files.own, a);
  const rel = workspacePath(a.path);
  const ref = refsByPath(ctx.files).get(rel);
  if (!ref) return invalidCall(`no file "${rel}" in the workspace; call list_files to see what is there`);
  const text = (await ctx.store.read(ref)).toString('utf8');
  return { content: bounded(text), isError: false, bytes: ref.bytes, written: [] };
}

function listTool(ctx: ToolContext, a: Record<string, unknown>): ToolOutcome | Promise<ToolOutcome> {
  if (ctx.repo) return repoListTool(ctx.repo, ctx.files.own, a);
  const folder =
    typeof a.path === 'string' && a.path.trim() !== '' && a.path.trim() !== '.' ? workspacePath(a.path) : '';
  const rows = [...refsByPath(ctx.files).entries()]
    .filter(([p]) => folder === '' || p.startsWith(`${folder}/`))
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([p, r]) => `${p} (${r.bytes} bytes)`);
  const text = rows.length > 0 ? rows.join('\n') : `(no files${folder ? ` under ${folder}/` : ''})`;
  return { content: bounded(text), isError: false, bytes: Buffer.byteLength(text), written: [] };
}

async function writeTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  const rel = ctx.repo ? repoPath(a.path) : workspacePath(a.path);
  if (ctx.repo) await checkWritable(await ctx.repo.open(), rel);
  const file = ProducedFile.safeParse({ path: rel, content: a.content });
  if (!file.success)
    return invalidCall(`write_file: ${file.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ref = await ctx.store.put(file.data);
  return { content: `wrote ${ref.path} (${ref.bytes} bytes)`, isError: false, bytes: ref.bytes, written: [ref] };
}

const MAX_KEPT_FILES = 20;
const MAX_KEPT_BYTES = 200_000;

/**
 * Regular files a command created or changed (links and node_modules are never taken), and why
 * the others were left out. A file the store cannot take (a path too long, odd characters) is
 * named in `skipped`, never an error: the command's output and exit code must reach the agent.
 */
async function changedFiles(ctx: ToolContext, dir: string): Promise<{ written: ArtifactRef[]; skipped: string[] }> {
  const before = refsByPath(ctx.files);
  const { files, more } = await listFiles(dir, '', 2000);
  const written: ArtifactRef[] = [];
  const skipped: string[] = more ? ['files beyond the first 2000 (or 20000 files and folders) were not looked at'] : [];
  for (const f of files) {
    if (written.length >= MAX_KEPT_FILES) {
      skipped.push(`files beyond the first ${MAX_KEPT_FILES} changed ones`);
      break;
    }
    if (f.path.split('/').includes('node_modules')) continue;
    if (f.bytes > MAX_KEPT_BYTES) {
      skipped.push(`${shortPath(f.path)} (larger than ${MAX_KEPT_BYTES} bytes)`);
      continue;
    }
    let rel: string;
    try {
      rel = workspacePath(f.path);
    } catch (err) {
      skipped.push(`${shortPath(f.path)} (${(err as Error).message})`);
      continue;
    }
    if (!ProducedFile.safeParse({ path: rel, content: '' }).success) {
      skipped.push(`${shortPath(f.path)} (not a path the artifact store accepts)`);
      continue;
    }
    const full = await resolveInside(dir, rel);
    if (!(await lstat(full)).isFile()) continue;
    const bytes = await readFile(full);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (before.get(rel)?.sha256 === sha) continue;
    written.push(await ctx.store.put({ path: rel, content: bytes }));
  }
  return { written, skipped };
}

function shortPath(p: string): string {
  return p.length > 80 ? `${p.slice(0, 60)}...${p.slice(-17)} (${p.length} characters)` : p;
}

async function commandTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  if (typeof a.command !== 'string') return invalidCall('run_command needs {"command": "<program and arguments>"}');
  const argv = parseCommand(a.command, ctx.settings.programs);
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...ctx.settings.limits };
  const quota = { bytes: limits.diskMb * 1024 * 1024, entries: limits.maxFiles };
  const tree = ctx.repo ? await ctx.repo.open() : undefined;
  const ws = tree
    ? await materialiseTree(ctx.store, tree, ctx.files.own, ctx.workspaceParent, quota)
    : await materialise(ctx.store, ctx.files, ctx.workspaceParent, quota);
  try {
    const res = await runSandboxed({
      dir: ws.dir,
      argv,
      limits,
      // The folder of every ticket's workspace: this command sees its own at /tmp/ws, no other.
      hide: [
        ...ctx.hide,
        ...(path.dirname(ws.dir) === '/' ? [] : [path.dirname(ws.dir)]),
        ...(tree ? [defaultRepoParent()] : []),
      ],
      // Repo tickets run the repository's toolchains, offline, with a build cache in /tmp.
      ...(tree ? { toolchains: workerToolchains(ctx.hide), tmpMb: TOOLCHAIN_TMP_MB } : {}),
      ...(ctx.isolation ? { isolation: ctx.isolation } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const full = await quotaReached(ws);
    const limitsHit = [
      ...res.limitsHit,
      ...(full.bytes
        ? [`disk limit of ${limits.diskMb} MB for the workspace (further writes failed with ENOSPC)`]
        : []),
      ...(full.entries
        ? [`file and folder limit of ${limits.maxFiles} for the workspace (further creates failed with ENOSPC)`]
        : []),
    ];
    const { written, skipped } =
      'gitEnv' in ws
        ? await treeChanges(ctx.store, ws as TreeWorkspace, ctx.files.own, {
            maxFiles: MAX_KEPT_FILES,
            maxBytes: MAX_KEPT_BYTES,
          })
        : await changedFiles(ctx, ws.dir);
    const outputRef = await ctx.store.put({ path: `tool-output/${argv[0] ?? 'command'}.log`, content: res.output });
    const status =
      res.stopped !== undefined ? `STOPPED by the sandbox: ${res.stopped}` : `exit code ${res.exitCode ?? '?'}`;
    const head = `$ ${a.command}\n${status} (${res.durationMs} ms, ${res.bytes} bytes of output)`;
    const hit = limitsHit.map((l) => `\nlimit reached: ${l}`).join('');
    const kept = written.length > 0 ? `\nfiles kept: ${written.map((w) => w.path).join(', ')}` : '';
    const notKept =
      skipped.length > 0
        ? `\nnot kept: ${skipped.slice(0, 10).join('; ')}${skipped.length > 10 ? `; and ${skipped.length - 10} more` : ''}`
        : '';
    return {
      content: bounded(`${head}${hit}${kept}${notKept}\n${res.output}`),
      isError: res.stopped !== undefined || res.exitCode !== 0,
      bytes: res.bytes,
      ...(res.exitCode !== undefined ? { exitCode: res.exitCode } : {}),
      written,
      outputRef,
    };
  } finally {
    await ws.dispose();
  }
}

async function pageTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  const rel = ctx.repo ? repoPath(a.page) : workspacePath(a.page);
  const tree = ctx.repo ? await ctx.repo.open() : undefined;
  const exists = tree
    ? (await readTreePath(ctx.store, tree, ctx.files.own, rel)).kind === 'file'
    : refsByPath(ctx.files).has(rel);
  if (!exists) return invalidCall(`no page "${rel}" in the workspace; call list_files`);
  const ws = tree
    ? await materialiseTree(ctx.store, tree, ctx.files.own, ctx.workspaceParent)
    : await materialise(ctx.store, ctx.files, ctx.workspaceParent);
  try {
    let report: Awaited<ReturnType<typeof checkPage>>;
    try {
      report = await checkPage({
        dir: ws.dir,
        page: await resolveInside(ws.dir, rel),
        hide: ctx.hide,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } catch (err) {
      // A cancelled activity ends as cancelled (its browser is already dead), not as a finding.
      if (ctx.signal?.aborted) throw err;
      if (err instanceof BrowserUnavailable) return unavailableTool(`check_page: ${err.message}`);
      // The page hung or crashed the browser: a finding about the page; the agent is told.
      return toolError(`check_page: ${(err as Error).message.split('\n')[0]}`);
    }
    const shot = await ctx.store.put({
      path: `tool-output/${path.basename(rel, '.html')}.png`,
      content: report.screenshot,
    });
    const text = `${report.text}\nscreenshot: ${shot.path} (${shot.bytes} bytes)`;
    return {
      content: bounded(text),
      isError: !report.ok,
      bytes: Buffer.byteLength(text),
      written: [],
      outputRef: shot,
    };
  } finally {
    await ws.dispose();
  }
}

/** Runs one built-in tool call; tool-level problems come back as an error result for the agent. */
export async function runBuiltInTool(ctx: ToolContext, name: BuiltInTool, rawArgs: string): Promise<ToolOutcome> {
  if (!ctx.settings.tools.includes(name)) return invalidCall(`tool ${name} is not enabled for this role`);
  const read = readToolArguments(rawArgs);
  if (!read.ok) return invalidCall(`${name}: ${read.error}`);
  const a = read.value;
  try {
    switch (name) {
      case 'read_file':
        return await readTool(ctx, a);
      case 'list_files':
        return await listTool(ctx, a);
      case 'write_file':
        return await writeTool(ctx, a);
      case 'run_command':
        return await commandTool(ctx, a);
      case 'check_page':
        return await pageTool(ctx, a);
    }
  } catch (err) {
    if (err instanceof WorkspacePathError) return invalidCall(`${name}: ${err.message}`);
    // The sandbox refuses a bad command line, or every command on a worker without isolation.
    if (err instanceof SandboxRefusal)
      return (ctx.isolation ?? detectIsolation()) === 'none'
        ? unavailableTool(`${name}: ${err.message}`)
        : invalidCall(`${name}: ${err.message}`);
    throw err;
  }
}
