/**
 * `run_command`'s sandbox. A command runs in its ticket's fresh workspace folder with no network,
 * as an unprivileged user of its own, under wall-clock, CPU, memory, disk, file-count and
 * process-count limits of its own, and only if its program is allow-listed; it dies with its
 * worker. Isolation, strongest first: Linux namespaces via `unshare` (worker runs as root), else
 * bubblewrap (`bwrap`); with neither, commands are refused, never run unsandboxed. What each
 * sandbox gets is built in sandbox-command.ts; the per-sandbox cgroups in sandbox-cgroup.ts.
 */
import { cleanStaleCopies } from '../repo/cache';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SANDBOX_TIMEOUT_MS, SANDBOX_PROGRAMS, type SandboxLimits } from '../../shared/tools';
import { cgroupLayout, cleanStaleCgroups, createSandboxCgroup, type SandboxCgroup } from './sandbox-cgroup';
import { sandboxCommandLine } from './sandbox-command';
import type { Toolchains } from './sandbox-toolchains';
import { allocateSandboxUid, SANDBOX_UIDS_ENV } from './sandbox-uids';
import { cleanStaleWorkspaces } from './workspace';

export { SANDBOX_WORKDIR } from './sandbox-command';

/** How commands are isolated on this machine ('none' means: refuse to run them). */
export type Isolation = 'unshare' | 'bubblewrap' | 'none';

/** A command the sandbox will not run; the message tells the agent what to do instead. */
export class SandboxRefusal extends Error {
  override name = 'SandboxRefusal';
}

/** The limits applied when a role configures none. */
export const DEFAULT_SANDBOX_LIMITS: Required<SandboxLimits> = {
  timeoutMs: DEFAULT_SANDBOX_TIMEOUT_MS,
  cpuSeconds: 30,
  memoryMb: 1024,
  maxProcesses: 64,
  outputBytes: 1_048_576,
  diskMb: 256,
  maxFiles: 20_000,
};

let detected: Isolation | undefined;

const isRoot = () => process.getuid?.() === 0;

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

/**
 * Whether this machine can isolate commands the given way, probed by running `true` through the
 * very command line real commands get (read-only mounts, tmpfs, socket covers and all).
 */
export function isolationAvailable(kind: Exclude<Isolation, 'none'>): boolean {
  if (!works('prlimit', ['--version']) || !works('timeout', ['--version'])) return false;
  const setpriv = works('setpriv', ['--version']);
  if (kind === 'unshare' && !(isRoot() && setpriv)) return false;
  if (kind === 'bubblewrap' && isRoot() && !setpriv) return false;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-probe-'));
  try {
    chmodSync(dir, 0o777);
    const { cmd, args } = sandboxCommandLine({
      isolation: kind,
      dir,
      argv: ['true'],
      limits: { ...DEFAULT_SANDBOX_LIMITS, timeoutMs: 10_000 },
      hide: [],
      ...(isRoot() ? { uid: NOBODY } : {}),
      nproc: 64,
      cgroupProcs: [],
      setpriv,
    });
    return works(cmd, args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The strongest isolation this machine offers (probed once per process). */
export function detectIsolation(): Isolation {
  detected ??= isolationAvailable('unshare') ? 'unshare' : isolationAvailable('bubblewrap') ? 'bubblewrap' : 'none';
  return detected;
}

/** The uid probes run as (nobody); real commands get one of their own. */
const NOBODY = 65534;

/** How each per-sandbox limit is enforced on this machine, in words (the worker logs it at start). */
export interface SandboxLimitMechanisms {
  processes: string;
  memory: string;
  disk: string;
}

/** Which mechanism enforces each per-sandbox limit here (cgroups where writable, else rlimits). */
export function sandboxLimitMechanisms(): SandboxLimitMechanisms {
  const cg = cgroupLayout();
  const uid = isRoot() ? `, and RLIMIT_NPROC of a uid of its own (${SANDBOX_UIDS_ENV})` : '';
  return {
    processes: cg
      ? `cgroup ${cg.kind} pids.max per sandbox (threads included)${uid}`
      : isRoot()
        ? `RLIMIT_NPROC of a uid of its own per sandbox (threads included; ${SANDBOX_UIDS_ENV})`
        : "RLIMIT_NPROC of the worker's user, shared with the worker's own processes (no writable cgroups, not root)",
    memory: cg
      ? `cgroup ${cg.kind} memory limit per sandbox (all its processes and its tmpfs files together)`
      : 'RLIMIT_DATA per process only (no writable cgroups)',
    disk: isRoot()
      ? 'workspace is a tmpfs bounded to diskMb bytes and maxFiles files and folders'
      : 'RLIMIT_FSIZE per file only (the worker is not root, so no tmpfs quota)',
  };
}

/**
 * Readies this host for sandboxes at worker start: removes what SIGKILLed workers left behind
 * (workspace folders under `workspaceParent`, half-made repository copies, cgroups); returns the limit mechanisms in force.
 */
export async function prepareSandboxHost(workspaceParent = os.tmpdir()): Promise<SandboxLimitMechanisms> {
  await cleanStaleWorkspaces(workspaceParent);
  await cleanStaleCopies();
  cleanStaleCgroups();
  return sandboxLimitMechanisms();
}

/**
 * RLIMIT_NPROC counts every process of the user. With a uid per sandbox it is the sandbox's own;
 * under bubblewrap without root it is the worker's own user, so its running processes are added.
 */
function processAllowance(ownUid: boolean, max: number): number {
  if (ownUid || typeof process.getuid !== 'function') return max;
  const uid = process.getuid();
  let mine = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (statSync(`/proc/${entry}`).uid === uid) mine++;
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return max;
  }
  return mine + max;
}

/** Words of a command line; quotes group words; shell operators are refused (no shell runs it). */
export function parseCommand(command: string, programs: readonly string[] = SANDBOX_PROGRAMS): string[] {
  const text = command.trim();
  if (text === '') throw new SandboxRefusal('the command is empty: give a command such as "node tests/check.mjs"');
  if (/[|;&<>`$(){}\n\\]/.test(text.replace(/'[^']*'|"[^"]*"/g, '')))
    throw new SandboxRefusal(
      `"${text}" uses shell syntax (| ; & < > $ \` ( ) { } \\ or a newline); run one program with its arguments, e.g. "npm test"`,
    );
  const words = [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  const program = words[0] ?? '';
  if (program.includes('/'))
    throw new SandboxRefusal(`"${program}": name a program (one of ${programs.join(', ')}), not a path`);
  if (!programs.includes(program))
    throw new SandboxRefusal(`"${program}" is not an allowed program here; allowed: ${programs.join(', ')}`);
  return words;
}

/** How a sandboxed command ended. */
export interface CommandResult {
  /** Exit code when the command exited by itself. */
  exitCode?: number;
  /** Why the sandbox stopped it, when it did (time limit, output limit, CPU limit, a signal). */
  stopped?: string;
  /** stdout and stderr interleaved, cut at the output limit. */
  output: string;
  /** Bytes the command wrote in total (more than `output` holds when it was cut). */
  bytes: number;
  durationMs: number;
  /** Per-sandbox limits the command ran into (it may still have exited by itself). */
  limitsHit: string[];
}

function signalName(n: number): NodeJS.Signals | null {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** Options of one sandboxed command. */
export interface SandboxRun {
  /** The materialised workspace folder (becomes the command's working directory). */
  dir: string;
  argv: string[];
  limits?: SandboxLimits;
  /** Folders (and files) to cover, e.g. MAESTRO_HOME: any absolute path, whatever its characters. */
  hide?: string[];
  isolation?: Isolation;
  signal?: AbortSignal;
  /** Toolchains bound read-only with their offline environment (repo runs; sandbox-toolchains.ts). */
  toolchains?: Toolchains;
  /** Size of the sandbox's /tmp in MB, where build caches go (default 64). */
  tmpMb?: number;
}

/**
 * Runs `argv` in the sandbox and resolves when it ended or was stopped; never rejects for the
 * command's own failures (the agent gets them as a result). Throws SandboxRefusal when this
 * machine has no isolation.
 */
export function runSandboxed(run: SandboxRun): Promise<CommandResult> {
  const isolation = run.isolation ?? detectIsolation();
  if (isolation === 'none')
    throw new SandboxRefusal(
      'no sandbox is available on this worker (needs root with unshare/setpriv/prlimit, or bubblewrap): commands are refused rather than run unsandboxed',
    );
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...run.limits };
  const own = isRoot() ? allocateSandboxUid() : undefined;
  let cgroup: SandboxCgroup | undefined;
  let line: { cmd: string; args: string[] };
  try {
    cgroup = createSandboxCgroup(limits.maxProcesses, limits.memoryMb);
    line = sandboxCommandLine({
      isolation,
      dir: run.dir,
      argv: run.argv,
      limits,
      hide: run.hide ?? [],
      ...(own ? { uid: own.uid } : {}),
      nproc: processAllowance(own !== undefined, limits.maxProcesses),
      cgroupProcs: cgroup?.procs ?? [],
      setpriv: isRoot() || works('setpriv', ['--version']),
      ...(run.toolchains ? { toolchains: run.toolchains } : {}),
      ...(run.tmpMb ? { tmpMb: run.tmpMb } : {}),
    });
  } catch (err) {
    cgroup?.remove();
    own?.release();
    throw err;
  }
  const { cmd, args } = line;
  const release = () => {
    const hit = cgroup?.limitsHit() ?? { processes: false, memory: false };
    cgroup?.remove();
    own?.release();
    return [
      ...(hit.processes ? [`process limit of ${limits.maxProcesses} (threads included) for the whole sandbox`] : []),
      ...(hit.memory
        ? [`memory limit of ${limits.memoryMb} MB for the whole sandbox (the kernel killed a process to stay under it)`]
        : []),
    ];
  };
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    let stopped: string | undefined;
    let forced: NodeJS.Timeout | undefined;
    const stop = (why: string) => {
      stopped ??= why;
      child.kill('SIGKILL');
      // Should a process still hold the output pipes, do not wait for it.
      forced ??= setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done(null, 'SIGKILL');
      }, 3000);
    };
    const timer = setTimeout(() => stop(`time limit of ${limits.timeoutMs} ms reached`), limits.timeoutMs);
    const onAbort = () => stop('cancelled');
    run.signal?.addEventListener('abort', onAbort);
    const take = (b: Buffer) => {
      bytes += b.length;
      if (kept < limits.outputBytes) {
        const part = b.subarray(0, limits.outputBytes - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (bytes > limits.outputBytes * 4) stop(`output limit reached (${bytes} bytes)`);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let settled = false;
    const done = (exit: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forced);
      // The namespace's shell reports a command killed by signal N as exit code 128 + N.
      const sig = signal ?? (exit !== null && exit > 128 ? signalName(exit - 128) : null);
      const code = sig ? null : exit;
      run.signal?.removeEventListener('abort', onAbort);
      if (!stopped && sig === 'SIGXCPU') stopped = `CPU time limit of ${limits.cpuSeconds} s reached`;
      else if (!stopped && sig) stopped = `killed by ${sig}`;
      const limitsHit = release();
      resolve({
        ...(stopped === undefined && code !== null ? { exitCode: code } : {}),
        ...(stopped !== undefined ? { stopped } : {}),
        output: Buffer.concat(chunks).toString('utf8'),
        bytes,
        durationMs: Date.now() - started,
        limitsHit,
      });
    };
    child.on('error', (err) => {
      stopped ??= `could not start the sandbox: ${err.message}`;
      done(null, null);
    });
    child.on('close', done);
  });
}
