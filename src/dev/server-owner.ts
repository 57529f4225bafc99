/**
 * Who owns the embedded Temporal dev server on a port. A command that starts the server records
 * itself in a small file (one per port, in the system's temp folder, created exclusively), so a
 * second command knows whether the server it sees will outlive it (`maestro dev`) or disappear
 * when a short-lived command ends (`maestro run`), and can name that process instead of
 * attaching to a server that is about to go away.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { terminalLine } from '../shared/model-text';

/** The command that started a server, as recorded in its owner file. */
export interface ServerOwner {
  pid: number;
  /** `dev` serves until Ctrl-C; `run` and `start` stop the server when they end. */
  command: string;
  home: string;
  startedAt: string;
  /** The Web UI's URL once the server is up (its real port, also when MAESTRO_UI_PORT=0 picked it). */
  uiUrl?: string;
}

/** The owner file of the server on `port`. */
export function ownerFile(port: number): string {
  return path.join(os.tmpdir(), `maestro-temporal-${port}.owner.json`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An owner record is a few hundred bytes; a larger file in the shared temp folder is not one. */
const MAX_OWNER_RECORD_BYTES = 64 * 1024;

/** Whether `v` has the owner record's shape (a co-tenant can write anything in the temp folder). */
function isOwnerRecord(v: unknown): v is ServerOwner {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  return (
    Number.isSafeInteger(r.pid) &&
    (r.pid as number) > 0 &&
    typeof r.command === 'string' &&
    typeof r.home === 'string' &&
    typeof r.startedAt === 'string' &&
    (r.uiUrl === undefined || typeof r.uiUrl === 'string')
  );
}

/** The live owner of the server on `port`, if a Maestro command started it; stale files are removed. */
export function readOwner(port: number): ServerOwner | undefined {
  const file = ownerFile(port);
  let parsed: unknown;
  try {
    // The temp folder is shared: a co-tenant's record may be huge or of any shape. A record being
    // written may not parse yet (left alone); a complete one of the wrong shape is removed as stale.
    parsed = statSync(file).size > MAX_OWNER_RECORD_BYTES ? undefined : JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (isOwnerRecord(parsed)) {
    if (parsed.pid === process.pid) return parsed;
    if (alive(parsed.pid)) return parsed;
  }
  try {
    unlinkSync(file);
  } catch {
    // someone else removed it
  }
  return undefined;
}

/**
 * Records this process as the owner of the server on `port`; returns the live owner instead when
 * another process got there first, else a release function that removes the record.
 */
export function claimServer(
  port: number,
  command: string,
  home: string,
): { release: () => void } | { owner: ServerOwner } {
  const file = ownerFile(port);
  for (let i = 0; i < 3; i++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      const me: ServerOwner = { pid: process.pid, command, home, startedAt: new Date().toISOString() };
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return {
        release: () => {
          if (readOwner(port)?.pid === process.pid) unlinkSync(file);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(port);
      if (owner) return { owner };
    }
  }
  throw new Error(
    `could not record the owner of the Temporal server in ${file}: it holds a record that is not a live Maestro command's and cannot be removed. Remove that file, or pick another port with MAESTRO_TEMPORAL_PORT.`,
  );
}

/**
 * Adds the started server's Web UI URL to this process's owner record, so commands that use the
 * server (`maestro run`, `watch`, scripts) print the URL it really has, not MAESTRO_UI_PORT's 0.
 */
export function recordUiUrl(port: number, uiUrl: string): void {
  const owner = readOwner(port);
  if (owner?.pid !== process.pid) return;
  // Written aside and renamed over the record, so a reader never sees half a file. The aside file
  // has an unguessable name and is created exclusively (O_EXCL never follows a symlink): a
  // co-tenant of the temp folder cannot plant a link there that redirects the write elsewhere.
  const file = ownerFile(port);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch {
    return; // the URL is not recorded; readers fall back to MAESTRO_UI_PORT
  }
  try {
    try {
      writeSync(fd, JSON.stringify({ ...owner, uiUrl }));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/** The Web UI URL the owner of the server on `port` recorded, if it is a URL on this machine. */
export function recordedUiUrl(port: number): string | undefined {
  const url = readOwner(port)?.uiUrl;
  return typeof url === 'string' && /^http:\/\/(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/.test(url) ? url : undefined;
}

/** `pid 123 (maestro run, MAESTRO_HOME /x/.maestro, since 10:02:03)`. */
export function describeOwner(owner: ServerOwner): string {
  // Another process wrote these fields: shown with control characters escaped.
  const text = (v: string) => terminalLine(v.slice(0, 300));
  return `pid ${owner.pid} (\`maestro ${text(owner.command)}\`, MAESTRO_HOME ${text(owner.home)}, since ${text(owner.startedAt.slice(11, 19))} UTC)`;
}
