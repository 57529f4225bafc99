/**
 * Runs one CLI attempt inside run_command's sandbox (same isolation, limits and death guarantees:
 * a PID namespace that dies with the worker, `timeout -s KILL` as a backstop) and follows its event
 * stream while it runs. The wall clock is ours: at `wallMs`, on cancellation (the abort signal of
 * a cancelled activity) or on a permit refusal the whole sandbox is killed, the CLI and every
 * child with it.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { SandboxLimits } from '../../shared/tools';
import { runSandboxed, type CommandResult } from '../tools/sandbox';
import type { Toolchains } from '../tools/sandbox-toolchains';
import { FORWARDER_SOURCE, startBridge, type ForwarderLaunch } from './bridge';
import type { CliLaunch } from './cli-specs';
import { emptyProgress, LineSplitter, readEventLine, type CliProgress } from './events';
import { writeCtl, type AttemptFolder } from './space';

/** How often the event stream is read (and progress reported). */
const POLL_MS = 500;

/** Bytes of the event stream kept as the attempt's transcript (its end when longer). */
export const TRANSCRIPT_BYTES = 512 * 1024;

/**
 * Opens a file of the control folder for reading, or undefined. The CLI can replace any of them
 * (the folder is writable by it): a symbolic link is not followed (it would read a host file into
 * the transcript or a failure reason) and only a regular file is read (a fifo would block).
 */
async function openCtl(file: string): Promise<FileHandle | undefined> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!fh) return undefined;
  if ((await fh.stat().catch(() => undefined))?.isFile()) return fh;
  await fh.close();
  return undefined;
}

/** The last `max` bytes of a control file (empty when it is missing or not a regular file). */
async function readCtlTail(file: string, max: number): Promise<Buffer> {
  const fh = await openCtl(file);
  if (!fh) return Buffer.alloc(0);
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, size - len);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** How one CLI run ended. */
export interface CliRun {
  sandbox: CommandResult;
  progress: CliProgress;
  /** The CLI's own exit, when it exited (absent: killed with its sandbox, or never started). */
  exit?: { code: number | null; signal: string | null };
  /** The end of the CLI's stderr (for failure reasons). */
  stderrTail: string;
  /** The event stream, bounded to TRANSCRIPT_BYTES. */
  transcript: string;
  /** Why Maestro stopped the CLI early (shouldStop's reason), when it did. */
  stoppedBy?: string;
}

/** Options of one CLI run. */
export interface CliRunOptions {
  folder: AttemptFolder;
  launch: CliLaunch;
  /** The gateway: its Unix socket when it listens in the attempt folder, else its URL (bridged). */
  gateway: { url?: string; socketPath?: string };
  limits: Required<Pick<SandboxLimits, 'timeoutMs'>> & SandboxLimits;
  hide: string[];
  /** Repo tickets: the worker's toolchains, bound read-only as for the repository's tests. */
  toolchains?: Toolchains;
  /** MB of the sandbox's /tmp (build caches of the toolchains). */
  tmpMb?: number;
  signal?: AbortSignal;
  /** Called with the progress whenever new events arrived (and at least every poll). */
  onProgress?: (p: CliProgress) => void;
  /** Stops the CLI when it returns a reason (e.g. the gateway refused for permits). */
  shouldStop?: () => string | undefined;
}

/** Runs the CLI of `launch` in the sandbox over the attempt folder; never rejects for the CLI's own failures. */
export async function runCli(o: CliRunOptions): Promise<CliRun> {
  const { folder, launch } = o;
  await writeCtl(folder, 'forwarder.cjs', FORWARDER_SOURCE);
  await writeCtl(
    folder,
    'launch.json',
    JSON.stringify({
      socket: `${folder.inside.ctl}/gateway.sock`,
      cwd: folder.inside.space,
      argv: launch.argv,
      env: withToolchainEnv(launch.env, o.toolchains),
      events: `${folder.inside.ctl}/events.jsonl`,
      stderr: `${folder.inside.ctl}/stderr.log`,
    } satisfies ForwarderLaunch),
  );
  // A gateway listening on the folder's socket is reached directly; another one through a bridge.
  const direct = o.gateway.socketPath === folder.host.socket;
  if (!direct && !o.gateway.url) throw new Error('the gateway listens neither in the attempt folder nor on TCP');
  const bridge = direct ? undefined : await startBridge(folder.host.socket, { url: o.gateway.url ?? '' });
  const progress = emptyProgress();
  const lines = new LineSplitter();
  let offset = 0;
  const read = async () => {
    const fh = await openCtl(folder.host.events);
    if (!fh) return;
    try {
      for (;;) {
        const buf = Buffer.alloc(256 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        for (const l of lines.push(buf.subarray(0, bytesRead).toString('utf8'))) readEventLine(progress, l);
      }
    } finally {
      await fh.close();
    }
  };
  const stopper = new AbortController();
  const onAbort = () => stopper.abort();
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stopper.abort();
  let stoppedBy: string | undefined;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      await read().catch(() => undefined);
      o.onProgress?.(progress);
      const why = o.shouldStop?.();
      if (why !== undefined && !stopper.signal.aborted) {
        stoppedBy = why;
        stopper.abort();
      }
    }
  })();
  let sandbox: CommandResult;
  try {
    sandbox = await runSandboxed({
      dir: folder.host.root,
      argv: ['node', folder.inside.forwarder],
      limits: o.limits,
      hide: o.hide,
      ...(o.toolchains ? { toolchains: o.toolchains } : {}),
      ...(o.tmpMb ? { tmpMb: o.tmpMb } : {}),
      signal: stopper.signal,
    });
  } finally {
    polling = false;
    await poll;
    o.signal?.removeEventListener('abort', onAbort);
    await bridge?.close();
  }
  await read().catch(() => undefined);
  if (launch.jsonEvents) for (const l of lines.end()) readEventLine(progress, l);
  o.onProgress?.(progress);
  const exit = await readCtlTail(`${folder.host.ctl}/exit.json`, 4096)
    .then((t) => JSON.parse(t.toString('utf8')) as { code: number | null; signal: string | null })
    .catch(() => undefined);
  const stderr = (await readCtlTail(folder.host.stderr, 8000)).toString('utf8');
  const events = await readCtlTail(folder.host.events, TRANSCRIPT_BYTES);
  return {
    sandbox,
    progress,
    ...(exit ? { exit } : {}),
    stderrTail: stderr.slice(-2000),
    transcript: events.toString('utf8'),
    ...(stoppedBy !== undefined ? { stoppedBy } : {}),
  };
}

/**
 * The CLI's environment with the toolchains' programs first on PATH and their offline settings
 * (GOFLAGS, GOCACHE...): the forwarder starts the CLI with this environment, not the sandbox's.
 */
export function withToolchainEnv(env: Record<string, string>, tc: Toolchains | undefined): Record<string, string> {
  if (!tc) return env;
  const out = { ...env };
  if (tc.path.length > 0) out.PATH = [...tc.path, env.PATH ?? '/usr/bin:/bin'].join(':');
  for (const entry of tc.env) {
    const at = entry.indexOf('=');
    if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return out;
}
