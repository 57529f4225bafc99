/**
 * Where `check_page`'s Chromium runs. Playwright starts a launcher script instead of Chromium; the
 * script ties the browser to the worker (parent-death SIGKILL) and, when the worker runs as root
 * with `unshare`, puts it in its own network, IPC, PID and mount namespaces (no network interface
 * but a loopback that is down; fresh /tmp, /var/tmp, /dev/shm; /root, /home and the worker's
 * hidden folders covered) and runs it as nobody. Elsewhere the browser runs as the worker's user
 * and only Playwright's routing keeps the page off the network (see check-page.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How a page check's browser is confined: its own namespaces as nobody, or Playwright's routing only. */
export type BrowserIsolation = 'namespace' | 'routing';

/** User and group the browser runs as in its namespace (nobody/nogroup), as `run_command`'s sandbox. */
const BROWSER_UID = 65534;

const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let detected: BrowserIsolation | undefined;

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

/** The strongest confinement this machine offers a browser (probed once per process). */
export function detectBrowserIsolation(): BrowserIsolation {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  detected ??=
    root &&
    works('setpriv', ['--pdeathsig', 'KILL', '--', 'true']) &&
    works('unshare', ['--net', '--ipc', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'true'])
      ? 'namespace'
      : 'routing';
  return detected;
}

/**
 * Runs as root inside the new namespaces: keeps the workspace and the profile folder (bound aside
 * on a scratch tmpfs), covers the folders a page has no business reading, puts the two back at
 * their paths, then starts the browser as nobody. The shell stays PID 1 (no `exec`): it keeps
 * `--kill-child`'s parent-death signal, which dropping privileges would clear, so when the
 * launcher dies the whole PID namespace dies with it.
 */
const INNER = `set -e
ws="$1"; exe="$2"; covers="$3"; shift 3
profile=""
for a in "$@"; do case "$a" in --user-data-dir=*) profile="\${a#--user-data-dir=}";; esac; done
mount --make-rprivate /
mkdir -p /mnt
mount -t tmpfs -o size=1m tmpfs /mnt
mkdir /mnt/ws /mnt/profile
mount --bind "$ws" /mnt/ws
if [ -n "$profile" ]; then chown -R ${BROWSER_UID}:${BROWSER_UID} "$profile"; mount --bind "$profile" /mnt/profile; fi
printf '%s\n' "$covers" | while IFS= read -r d; do
  if [ -n "$d" ] && [ -d "$d" ]; then
    case "$d" in /tmp|/var/tmp|/dev/shm) mount -t tmpfs -o size=512m,mode=1777 tmpfs "$d";; *) mount -t tmpfs -o size=1m,mode=0755 tmpfs "$d";; esac
  fi
done
mkdir -p "$ws"; mount --move /mnt/ws "$ws"
if [ -n "$profile" ]; then mkdir -p "$profile"; mount --move /mnt/profile "$profile"; fi
setpriv --reuid=${BROWSER_UID} --regid=${BROWSER_UID} --clear-groups --no-new-privs -- env HOME="\${profile:-/tmp}" "$exe" "$@"`;

/** A launcher for one browser: its path (Playwright's `executablePath`), its environment, and a kill switch. */
export interface BrowserLauncher {
  path: string;
  isolation: BrowserIsolation;
  /** The environment the browser gets: nothing of the worker's (no keys, no tokens). */
  env: Record<string, string>;
  /** SIGKILLs the browser's process group (and with it, its namespace), if it still runs. */
  kill(): void;
  /** Removes the launcher's folder. */
  dispose(): void;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether `folder` is `file` or holds it. */
function holds(folder: string, file: string): boolean {
  return file === folder || file.startsWith(`${folder}/`);
}

/**
 * A launcher that starts `exe` confined as `isolation` says, for a page check of the workspace
 * `workspace`. `hide` are folders the page must not see (MAESTRO_HOME, the artifact store); a
 * folder that holds the browser itself stays visible (else it could not start).
 */
export function browserLauncher(args: {
  exe: string;
  workspace: string;
  hide?: readonly string[];
  isolation?: BrowserIsolation;
}): BrowserLauncher {
  const isolation = args.isolation ?? detectBrowserIsolation();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-browser-'));
  const pidFile = path.join(dir, 'pid');
  let exeReal = args.exe;
  try {
    exeReal = realpathSync(args.exe);
  } catch {
    // missing: launching fails with Playwright's own message
  }
  const covers = ['/tmp', '/var/tmp', '/dev/shm', '/root', '/home', ...(args.hide ?? [])]
    // One folder a line (spaces, @ and + are fine); a name with a newline cannot be covered safely.
    .filter((d) => path.isAbsolute(d) && !d.includes('\n'))
    .map((d) => d.replace(/\/+$/, ''))
    .filter((d) => d !== '' && !holds(d, exeReal) && !holds(d, args.exe));
  // The launcher's folder is the marker that tells our browser's process from any other.
  const tag = `maestro-browser-launcher:${dir}`;
  const script =
    isolation === 'namespace'
      ? `#!/bin/sh
echo $$ > ${quote(pidFile)}
exec setpriv --pdeathsig KILL -- unshare --net --ipc --mount --pid --fork --kill-child --mount-proc -- sh -c ${quote(INNER)} ${quote(tag)} ${quote(args.workspace)} ${quote(args.exe)} ${quote(covers.join('\n'))} "$@"
`
      : `#!/bin/sh
echo $$ > ${quote(pidFile)}
if command -v setpriv >/dev/null 2>&1; then exec setpriv --pdeathsig KILL -- ${quote(args.exe)} "$@" --maestro-launcher=${quote(tag)}; fi
exec ${quote(args.exe)} "$@" --maestro-launcher=${quote(tag)}
`;
  const file = path.join(dir, 'chromium');
  writeFileSync(file, script);
  chmodSync(file, 0o700);
  const ours = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(tag);
    } catch {
      return false;
    }
  };
  return {
    path: file,
    isolation,
    env: { PATH: PATH_ENV, LANG: 'C.UTF-8', HOME: os.tmpdir() },
    kill() {
      let pid: number;
      try {
        pid = Number(readFileSync(pidFile, 'utf8').trim());
      } catch {
        return; // never started
      }
      if (!Number.isInteger(pid) || pid <= 1 || !ours(pid)) return;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
