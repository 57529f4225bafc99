/**
 * A uid of its own for every sandbox (when the worker runs as root), taken from a configured range
 * and released after the command: RLIMIT_NPROC counts per user, so with one shared user (nobody)
 * one command could use up every other sandbox's processes. Allocation is a lock file per uid
 * holding its owner's tag, so workers sharing a host never hand out the same uid, and a dead
 * worker's uids are taken back.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ownerAlive, ownerTag } from './process-owner';

/** Environment variable with the uid range of sandboxes, `first-last`. */
export const SANDBOX_UIDS_ENV = 'MAESTRO_SANDBOX_UIDS';

/** Default range: far from system users, login users and the usual /etc/subuid ranges. */
export const DEFAULT_SANDBOX_UIDS = { first: 1_500_000_000, last: 1_500_009_999 };

/** Where the lock files live (root-owned, outside any sandbox's reach). */
const LOCK_DIR = '/run/maestro-sandbox-uids';

/** The configured uid range, or an error naming the variable and the expected form. */
export function sandboxUidRange(env: NodeJS.ProcessEnv = process.env): { first: number; last: number } {
  const raw = env[SANDBOX_UIDS_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SANDBOX_UIDS;
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1000 || last < first || last > 4_294_967_294)
    throw new Error(
      `${SANDBOX_UIDS_ENV}="${raw}" is not a uid range: give "first-last" with 1000 <= first <= last, e.g. "1500000000-1500009999"`,
    );
  return { first, last };
}

/** Whether any process on this machine runs as `uid` (a uid still in use is never handed out). */
function inUse(uid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}`).uid === uid) return true;
    } catch {
      // ended meanwhile
    }
  }
  return false;
}

function tryLock(uid: number): boolean {
  const file = path.join(LOCK_DIR, String(uid));
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, ownerTag());
      closeSync(fd);
      return true;
    } catch {
      let owner = '';
      try {
        owner = readFileSync(file, 'utf8').trim();
      } catch {
        continue; // released meanwhile: try again
      }
      if (owner === '' || ownerAlive(owner)) return false;
      try {
        unlinkSync(file); // its worker died: take it back
      } catch {
        return false;
      }
    }
  }
  return false;
}

let next = 0;

/** A sandbox uid for one command; `release()` gives it back. Throws when the range is used up. */
export function allocateSandboxUid(): { uid: number; release(): void } {
  const { first, last } = sandboxUidRange();
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  const size = last - first + 1;
  for (let i = 0; i < size; i++) {
    const uid = first + ((next + i) % size);
    if (!tryLock(uid)) continue;
    if (inUse(uid)) {
      unlinkSync(path.join(LOCK_DIR, String(uid)));
      continue;
    }
    next = (uid - first + 1) % size;
    return {
      uid,
      release: () => {
        try {
          unlinkSync(path.join(LOCK_DIR, String(uid)));
        } catch {
          // already gone
        }
      },
    };
  }
  throw new Error(
    `every sandbox uid of ${first}-${last} is in use: widen ${SANDBOX_UIDS_ENV} or run fewer commands at once`,
  );
}
