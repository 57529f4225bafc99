/**
 * Launches the official Temporal dev server (`temporal server start-dev`) for local runs and
 * tests, waits until it really answers gRPC, makes sure Maestro's search attributes exist, and
 * stops it without leaving orphans.
 */
import { spawn } from 'node:child_process';
import { guardAgainstOrphan } from './orphan-guard';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '../shared/constants';

// Defined with the other shared names so clients need not load the dev-server launcher.
export { MAESTRO_SEARCH_ATTRIBUTES, type SearchAttributeType } from '../shared/constants';

/** How to launch a dev server; every field but `cliPath` has a local-friendly default. */
export interface DevServerOptions {
  /** The `temporal` binary (see `resolveTemporalCli`). */
  cliPath: string;
  /** IP the frontend (and UI) bind to; default 127.0.0.1. */
  ip?: string;
  /** gRPC frontend port; default 7233; 0 picks a free port. */
  port?: number;
  /** Web UI port; default 8233; 0 picks a free port; false runs headless. */
  uiPort?: number | false;
  /** The setting that chose `uiPort` (e.g. `MAESTRO_UI_PORT`): a taken UI port's error names it. */
  uiPortSetting?: string;
  /** SQLite file for persistent state; undefined keeps everything in memory. */
  dbFile?: string;
  /**
   * SQLite pragmas for `dbFile`; default {@link DEFAULT_SQLITE_PRAGMAS} (WAL, synchronous=normal),
   * which about doubles the server's throughput; `{}` keeps SQLite's own defaults.
   */
  sqlitePragmas?: Record<string, string>;
  /** Namespace to create at launch; default 'default'. */
  namespace?: string;
  /** Search attributes to register (use {@link MAESTRO_SEARCH_ATTRIBUTES}). */
  searchAttributes?: Record<string, SearchAttributeType>;
  /** File that receives the server's stdout/stderr (appended); otherwise kept in memory for errors. */
  logFile?: string;
  /** Remote codec endpoint the Web UI decodes payloads with (`maestro codec-server`), for encrypted runs. */
  uiCodecEndpoint?: string;
  /** How long to wait for the server to answer; default 60000. */
  startTimeoutMs?: number;
}

/** A running dev server. */
export interface DevServer {
  /** `host:port` of the gRPC frontend, for `Connection.connect({ address })`. */
  address: string;
  /** Web UI URL, unless headless. */
  uiUrl?: string;
  pid: number;
  /** SIGTERM, up to 10 s grace, then SIGKILL; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Startup failed: the process exited early, never answered, or a port was taken. */
export class DevServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevServerStartError';
  }
}

/**
 * WAL with synchronous=normal: a commit no longer waits for an fsync of the whole database, so
 * the dev server handles about twice the workflow tasks per second (measured by `npm run bench`).
 * A crash or SIGKILL of the server process loses nothing (the WAL is in the OS's page cache);
 * only a power cut or OS crash can roll back the last moments of commits, never corrupt the file.
 */
export const DEFAULT_SQLITE_PRAGMAS: Readonly<Record<string, string>> = {
  journal_mode: 'wal',
  synchronous: 'normal',
};

const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_CHARS = 4000;

/**
 * Servers started by this process. One process-level 'exit' handler SIGKILLs any that are still
 * running, so a crash or `process.exit()` never leaves an orphan (SQLite is crash-safe; only
 * 'exit' handlers may not wait, hence SIGKILL). SIGINT (Ctrl-C) is deliberately NOT handled here:
 * the CLI owns signal handling and must call `stop()` so the server shuts down gracefully.
 */
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function trackChild(child: ChildProcess): void {
  running.add(child);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const c of running) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

/** Starts `temporal server start-dev` and resolves once it serves the namespace. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const connectHost = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  const namespace = opts.namespace ?? 'default';
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const port = opts.port === 0 ? await freePort(connectHost) : (opts.port ?? DEFAULT_PORT);
  const uiPort =
    opts.uiPort === false
      ? undefined
      : opts.uiPort === 0
        ? await freePort(connectHost)
        : (opts.uiPort ?? DEFAULT_UI_PORT);
  const address = `${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${port}`;

  for (const [what, p] of [
    ['gRPC', port],
    ['Web UI', uiPort],
  ] as const) {
    if (p !== undefined && (await isListening(connectHost, p))) {
      const setting = what === 'Web UI' ? opts.uiPortSetting : undefined;
      throw new DevServerStartError(
        `Cannot start the Temporal dev server: ${what} port ${p} on ${connectHost} is already in use. ` +
          (setting
            ? `Stop whatever listens there, or pick another port with ${setting} (${setting}=0 picks a free one).`
            : `Stop whatever listens there, choose another port (0 picks a free one)` +
              (what === 'gRPC' ? `, or point TEMPORAL_ADDRESS at the server already running on ${address}.` : '.')),
      );
    }
  }

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port)];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (uiPort !== undefined && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFile) {
    mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
    args.push('--db-filename', opts.dbFile);
    for (const [name, value] of Object.entries(opts.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS)) {
      args.push('--sqlite-pragma', `${name}=${value}`);
    }
  }
  args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  args.push('--log-level', 'warn');

  const log = openLog(opts.logFile);
  let child: ChildProcess;
  try {
    child = spawn(opts.cliPath, args, {
      stdio: ['ignore', log.stdio, log.stdio],
      windowsHide: true,
      // Its own process group: Ctrl-C in the terminal reaches only the CLI, which stops its
      // workers first and then this server (never the other way round).
      detached: true,
    });
  } finally {
    log.closeParentFd();
  }
  log.attach(child);
  trackChild(child);
  guardAgainstOrphan(child.pid);

  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`could not be run: ${err.message}`));
    child.once('exit', (code, signal) => resolve(`exited early with ${signal ? `signal ${signal}` : `code ${code}`}`));
  });
  exited.then(() => running.delete(child)).catch(() => undefined);

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopPromise ??= stopChild(child, exited));

  const fail = async (reason: string): Promise<never> => {
    await stop();
    const tail = await log.tail();
    throw new DevServerStartError(
      `Temporal dev server (${opts.cliPath} ${args.join(' ')}) ${reason}.` +
        (tail ? `\nLast lines of its log${opts.logFile ? ` (${opts.logFile})` : ''}:\n${tail}` : ''),
    );
  };

  const ready = await waitUntilReady(address, namespace, timeoutMs, exited);
  if (ready !== true) return fail(ready);
  try {
    await ensureSearchAttributes(address, namespace, opts.searchAttributes ?? {});
  } catch (err) {
    return fail(
      `started, but registering search attributes failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }

  const uiHost = ip === '0.0.0.0' || ip === '::' ? 'localhost' : ip;
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${uiHost.includes(':') ? `[${uiHost}]` : uiHost}:${uiPort}`,
    pid: child.pid ?? -1,
    stop,
  };
}

/** Resolves true when the server answers for `namespace`, or a reason string when it never will. */
async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: Promise<string>,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let exitReason: string | undefined;
  void exited.then((r) => (exitReason = r));
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitReason) return exitReason;
    const attempt = withConnection(address, Math.min(2000, Math.max(100, deadline - Date.now())), async (conn) => {
      await conn.withDeadline(Date.now() + 3000, () => conn.workflowService.describeNamespace({ namespace }));
    }).then(
      () => true as const,
      (err: unknown) => {
        lastError = err instanceof Error ? err.message : String(err);
        return false as const;
      },
    );
    // An early exit wins over a pending connection attempt, so failures are reported at once.
    const outcome = await Promise.race([attempt, exited]);
    if (outcome === true) return true;
    if (typeof outcome === 'string') return outcome;
    await Promise.race([sleep(250, { unref: true }), exited]);
  }
  return exitReason ?? `did not answer on ${address} within ${timeoutMs} ms (last error: ${lastError})`;
}

/**
 * `--search-attribute` is only applied when the SQLite file is created, so on a reused file any
 * attribute added since is registered here. A same-named attribute of another type is an error.
 */
async function ensureSearchAttributes(
  address: string,
  namespace: string,
  wanted: Record<string, SearchAttributeType>,
): Promise<void> {
  if (Object.keys(wanted).length === 0) return;
  await withConnection(address, 5000, async (conn) => {
    const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(wanted)) {
      const existing: number | null | undefined = customAttributes?.[name];
      if (existing === undefined || existing === null) missing[name] = INDEXED_VALUE_TYPE[type];
      else if (existing !== INDEXED_VALUE_TYPE[type]) {
        const actual = Object.entries(INDEXED_VALUE_TYPE).find(([, code]) => code === existing)?.[0] ?? existing;
        throw new Error(
          `search attribute ${name} already exists with type ${actual} instead of ${type}; ` +
            'use a fresh dbFile or remove the attribute',
        );
      }
    }
    if (Object.keys(missing).length > 0) {
      await conn.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: missing,
      });
    }
  });
}

/** Wire values of `temporal.api.enums.v1.IndexedValueType` (stable protocol numbers). */
const INDEXED_VALUE_TYPE: Readonly<Record<SearchAttributeType, number>> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

async function withConnection<T>(address: string, connectTimeoutMs: number, fn: (c: Connection) => Promise<T>) {
  const conn = await Connection.connect({
    address,
    connectTimeout: connectTimeoutMs,
  });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    await Promise.race([exited, sleep(100, { unref: true })]);
    return;
  }
  child.kill('SIGTERM');
  const grace = sleep(STOP_GRACE_MS, { unref: true });
  const gone = await Promise.race([exited.then(() => true), grace.then(() => false)]);
  if (!gone) {
    child.kill('SIGKILL');
    await exited;
  }
  running.delete(child);
}

interface ServerLog {
  stdio: 'pipe' | number;
  closeParentFd(): void;
  attach(child: ChildProcess): void;
  tail(): Promise<string>;
}

/** The server writes straight into `logFile` when given; otherwise its output is piped into a ring buffer. */
function openLog(logFile: string | undefined): ServerLog {
  if (logFile) {
    mkdirSync(path.dirname(path.resolve(logFile)), { recursive: true });
    const fd = openSync(logFile, 'a');
    let closed = false;
    return {
      stdio: fd,
      closeParentFd: () => {
        if (!closed) closeSync(fd);
        closed = true;
      },
      attach: () => undefined,
      tail: async () => {
        try {
          const handle = await fsp.open(logFile, 'r');
          try {
            const { size } = await handle.stat();
            const length = Math.min(size, LOG_TAIL_CHARS);
            const buf = Buffer.alloc(length);
            await handle.read(buf, 0, length, size - length);
            return buf.toString('utf8').trim();
          } finally {
            await handle.close();
          }
        } catch {
          return '';
        }
      },
    };
  }
  let buffer = '';
  let closed: Promise<void> = Promise.resolve();
  return {
    stdio: 'pipe',
    closeParentFd: () => undefined,
    attach: (child) => {
      const onData = (chunk: Buffer): void => {
        buffer = (buffer + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      closed = new Promise((resolve) => child.once('close', () => resolve()));
    },
    // 'exit' can come before the last output is read; 'close' means the pipes are drained.
    tail: async () => {
      await Promise.race([closed, sleep(1000, { unref: true })]);
      return buffer.trim();
    },
  };
}

/** True when something accepts TCP connections on host:port (used to detect taken ports). */
export function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A TCP port that is free right now on `host` (default 127.0.0.1), picked by the OS. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/** A delay; `unref` ones never keep the process alive (used for timers that usually lose a race). */
function sleep(ms: number, { unref = false } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
  });
}
