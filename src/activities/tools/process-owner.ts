/**
 * Who owns a sandbox resource left on the machine (a workspace folder, a cgroup, a sandbox uid):
 * the worker process that made it, named by pid and start time, so a later worker can tell a dead
 * owner's leftovers from a live neighbour's (several workers may share a host, and pids are reused).
 */
import { readFileSync } from 'node:fs';

/**
 * Start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when it has ended: a zombie (state Z or X) has ended too, though its parent has not
 * reaped it yet (a SIGKILLed worker stays one until its parent waits for it).
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let mine: string | undefined;

/** This process's owner tag, `<pid>.<start time>` (safe in file and cgroup names). */
export function ownerTag(): string {
  mine ??= `${process.pid}.${startTime(process.pid) ?? '0'}`;
  return mine;
}

/** Whether the process a tag names still runs (same pid and start time). Malformed tags count as alive. */
export function ownerAlive(tag: string): boolean {
  const m = /^(\d+)\.(\d+)$/.exec(tag);
  if (!m) return true;
  if (m[2] === '0') return signalable(Number(m[1])); // no /proc (macOS): the pid alone
  return startTime(Number(m[1])) === m[2];
}

/** The owner tag inside a name made by `${prefix}${tag}-...`, if it has one. */
export function ownerOf(name: string, prefix: string): string | undefined {
  if (!name.startsWith(prefix)) return undefined;
  return /^(\d+\.\d+)-/.exec(name.slice(prefix.length))?.[1];
}
