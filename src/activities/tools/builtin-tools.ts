/**
 * Executes the built-in tools over a ticket's workspace. A tool's own failure (a bad path, a
 * refused command, a failing test) is a result the agent reads and reacts to, never an activity
 * failure; only infrastructure problems (a missing artifact) throw.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProducedFile } from '../../shared/schemas';
import type { AgentSettings, BuiltInTool, ToolNotRun } from '../../shared/tools';
import { TOOL_RESULT_CHARS } from '../../shared/tools';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { BrowserUnavailable, checkPage } from './check-page';
import { detectIsolation, parseCommand, runSandboxed, SandboxRefusal, type Isolation } from './sandbox';
import {
  listFiles,
  materialise,
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
}

/** What a tool call produced. */
export interface ToolOutcome {
  /** What the model is told (already bounded). */
  content: string;
  isError: boolean;
  /** Bytes of the full output. */
  bytes: number;
  exitCode?: number;
  /** Files the call created or changed in the ticket's own files. */
  written: ArtifactRef[];
  /** The full output, when it was stored (command output, screenshots). */
  outputRef?: ArtifactRef;
  /** Set when the tool did not run: the caller's mistake or a tool this worker lacks, not a finding. */
  notRun?: ToolNotRun;
}

/** A tool error the agent sees (not an activity failure). */
export function toolError(message: string): ToolOutcome {
  return { content: `ERROR: ${message}`, isError: true, bytes: Buffer.byteLength(message), written: [] };
}

/**
 * The agent's own mistake (bad arguments, a path not in the workspace, a refused command): the
 * tool did not run, the agent is told so, and the call is never evidence against a dependency.
 */
export function invalidCall(message: string): ToolOutcome {
  return {
    ...toolError(`${message}\n(the tool did not run: fix this call; it says nothing about the work being checked)`),
    notRun: 'invalid-call',
  };
}

/** A tool this worker cannot run (no browser, no sandbox): a setup problem, not a finding about the work. */
export function unavailableTool(message: string): ToolOutcome {
  return {
    ...toolError(`${message}\n(the tool did not run on this worker: a setup problem, not a finding about the work)`),
    notRun: 'unavailable',
  };
}

/** `text` bounded to what goes back into the conversation, saying how much was left out. */
export function bounded(text: string, max = TOOL_RESULT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[... ${text.length - max} more characters; the full output is stored as an artifact]`;
}

function args(raw: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(raw || '{}');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('arguments must be a JSON object');
  return parsed as Record<string, unknown>;
}

function refsByPath(files: WorkspaceFiles): Map<string, ArtifactRef> {
  const map = new Map<string, ArtifactRef>();
  for (const ref of [...files.dependencies, ...files.own]) map.set(workspacePath(ref.path), ref);
  return map;
}

async function readTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  const rel = workspacePath(a.path);
  const ref = refsByPath(ctx.files).get(rel);
  if (!ref) return invalidCall(`no file "${rel}" in the workspace; call list_files to see what is there`);
  const text = (await ctx.store.read(ref)).toString('utf8');
  return { content: bounded(text), isError: false, bytes: ref.bytes, written: [] };
}

function listTool(ctx: ToolContext, a: Record<string, unknown>): ToolOutcome {
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
  const file = ProducedFile.safeParse({ path: workspacePath(a.path), content: a.content });
  if (!file.success)
    return invalidCall(`write_file: ${file.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ref = await ctx.store.put(file.data);
  return { content: `wrote ${ref.path} (${ref.bytes} bytes)`, isError: false, bytes: ref.bytes, written: [ref] };
}

const MAX_KEPT_FILES = 20;
const MAX_KEPT_BYTES = 200_000;

/** Regular files a command created or changed (links and node_modules are never taken). */
async function changedFiles(ctx: ToolContext, dir: string): Promise<ArtifactRef[]> {
  const before = refsByPath(ctx.files);
  const { files } = await listFiles(dir, '', 2000);
  const out: ArtifactRef[] = [];
  for (const f of files) {
    if (out.length >= MAX_KEPT_FILES) break;
    if (f.path.split('/').includes('node_modules') || f.bytes > MAX_KEPT_BYTES) continue;
    const full = await resolveInside(dir, f.path);
    if (!(await lstat(full)).isFile()) continue;
    const bytes = await readFile(full);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (before.get(f.path)?.sha256 === sha) continue;
    if (!ProducedFile.safeParse({ path: f.path, content: '' }).success) continue;
    out.push(await ctx.store.put({ path: f.path, content: bytes }));
  }
  return out;
}

async function commandTool(ctx: ToolContext, a: Record<string, unknown>): Promise<ToolOutcome> {
  if (typeof a.command !== 'string') return invalidCall('run_command needs {"command": "<program and arguments>"}');
  const argv = parseCommand(a.command, ctx.settings.programs);
  const ws = await materialise(ctx.store, ctx.files, ctx.workspaceParent);
  try {
    const res = await runSandboxed({
      dir: ws.dir,
      argv,
      ...(ctx.settings.limits ? { limits: ctx.settings.limits } : {}),
      hide: ctx.hide,
      ...(ctx.isolation ? { isolation: ctx.isolation } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const written = await changedFiles(ctx, ws.dir);
    const outputRef = await ctx.store.put({ path: `tool-output/${argv[0] ?? 'command'}.log`, content: res.output });
    const status =
      res.stopped !== undefined ? `STOPPED by the sandbox: ${res.stopped}` : `exit code ${res.exitCode ?? '?'}`;
    const head = `$ ${a.command}\n${status} (${res.durationMs} ms, ${res.bytes} bytes of output)`;
    const kept = written.length > 0 ? `\nfiles kept: ${written.map((w) => w.path).join(', ')}` : '';
    return {
      content: bounded(`${head}${kept}\n${res.output}`),
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
  const rel = workspacePath(a.page);
  if (!refsByPath(ctx.files).has(rel)) return invalidCall(`no page "${rel}" in the workspace; call list_files`);
  const ws = await materialise(ctx.store, ctx.files, ctx.workspaceParent);
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
  let a: Record<string, unknown>;
  try {
    a = args(rawArgs);
  } catch (err) {
    return invalidCall(`${name}: the arguments are not valid JSON (${(err as Error).message})`);
  }
  try {
    switch (name) {
      case 'read_file':
        return await readTool(ctx, a);
      case 'list_files':
        return listTool(ctx, a);
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
