/**
 * Keeps a child server from outliving its parent even when the parent is killed with SIGKILL
 * (which no handler in the parent can see): a tiny detached shell watches both pids and stops
 * the child once the parent is gone.
 */
import { spawn } from 'node:child_process';

const WATCHDOG = `
parent=$1; child=$2
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1; done
if kill -0 "$child" 2>/dev/null; then
  kill -TERM "$child" 2>/dev/null; sleep 5; kill -KILL "$child" 2>/dev/null
fi
`;

/** Starts the watchdog for `childPid` (no-op where there is no POSIX shell). */
export function guardAgainstOrphan(childPid: number | undefined, parentPid = process.pid): void {
  if (childPid === undefined || process.platform === 'win32') return;
  try {
    const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'maestro-orphan-guard', String(parentPid), String(childPid)], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.on('error', () => undefined);
    watchdog.unref();
  } catch {
    // Without a shell the process-level exit handler still covers normal exits.
  }
}
