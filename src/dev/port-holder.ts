/**
 * Names the process that listens on a local port (Linux: /proc/net/tcp and /proc/<pid>/fd), so
 * "port in use" messages can say by whom instead of leaving a person to guess.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** ` (pid 123, node)`: the process listening on `port`, found through /proc on Linux; '' elsewhere. */
export function portHolder(port: number): string {
  const pid = findListeningPid(port);
  if (pid === undefined) return '';
  let name = '';
  try {
    name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    // not readable
  }
  return ` (pid ${pid}${name ? `, ${name}` : ''})`;
}

function findListeningPid(port: number): number | undefined {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && inodes.has(m[1]!)) return Number(pid);
        } catch {
          // gone
        }
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}
