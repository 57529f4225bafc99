/**
 * The command line that starts one sandbox, for each isolation. What every sandbox gets:
 * - tied to its worker: `setpriv --pdeathsig SIGKILL` on the process the worker spawns, the
 *   namespace's init dies with it (unshare `--kill-child`, bwrap `--die-with-parent`), and a PID
 *   namespace takes every process of the command with its init; inside, `timeout -s KILL` ends the
 *   command by itself should all of that fail;
 * - its own cgroup(s), joined before the namespace starts, so no process escapes the limits;
 * - new network, PID, IPC, UTS and mount namespaces; every mount read-only, fresh tmpfs on the
 *   places commands may write (/tmp, /var/tmp, /run, /dev/shm) and over /root, /home and the
 *   hidden folders; every listening Unix socket of the host covered by /dev/null;
 * - its own uid when the worker runs as root, with no capabilities and no new privileges.
 * Every path travels as its own argument, never inside script text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import type { SandboxLimits } from '../../shared/tools';
import type { Toolchains } from './sandbox-toolchains';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_WORKDIR = '/tmp/ws';

/** Folders covered by a fresh tmpfs in every sandbox, with its size and mode. */
const WRITABLE = [
  ['/tmp', '64m', '1777'],
  ['/var/tmp', '16m', '1777'],
  ['/dev/shm', '16m', '1777'],
  ['/run', '1m', '0755'],
  ['/root', '1m', '0755'],
  ['/home', '1m', '0755'],
] as const;

/** nobody: the uid of a root worker's sandbox when it is given none of its own. */
const NOBODY = 65534;

/** Seconds the inner `timeout` allows beyond the wall-clock limit the worker enforces itself. */
const BACKSTOP_SECONDS = 10;

const ENV = [
  'PATH=/usr/local/bin:/usr/bin:/bin',
  'HOME=/tmp',
  'LANG=C.UTF-8',
  'CI=true',
  'npm_config_cache=/tmp/.npm',
  'npm_config_update_notifier=false',
  'npm_config_offline=true',
];

/** Existing real folders among the tmpfs-covered ones (a symlink such as /var/run is left alone). */
function writableDirs(): (readonly [string, string, string])[] {
  return WRITABLE.filter(([d]) => {
    try {
      return lstatSync(d).isDirectory();
    } catch {
      return false;
    }
  });
}

/**
 * Paths of the host's bound Unix sockets (from /proc/net/unix) outside the folders every sandbox
 * covers anyway: each gets /dev/null mounted over it, since a read-only mount does not stop
 * `connect()`. Abstract sockets need nothing: they belong to the host's network namespace.
 */
export function hostSocketPaths(covered: readonly string[]): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return [];
  }
  const under = (p: string) => covered.some((c) => p === c || p.startsWith(`${c}/`));
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const p = line.trim().split(/\s+/).slice(7).join(' ');
    if (!p.startsWith('/') || under(p) || !existsSync(p)) continue;
    out.add(p);
  }
  return [...out];
}

/**
 * Runs as root in the new namespaces: the namespace's own loopback up (as bwrap does: a coding-agent
 * CLI reaches the gateway through a forwarder on it; nothing leaves the namespace), every mount read-only (one that cannot be is refused, unless
 * another mount hides it), a minimal read-only /dev (null, zero, full, random, urandom, tty), tmpfs on the writable places and the hidden folders, /dev/null over
 * hidden files and sockets, the workspace (staged on /mnt before /tmp is covered) writable at /tmp/ws; then the command under `timeout`. The shell stays PID 1 (no
 * `exec`): it keeps `--kill-child`'s parent-death signal, which dropping privileges would clear.
 * Read-only binds (toolchains under /root...) are staged on /mnt too and moved into place last.
 * Arguments: workspace, seconds, binds... `--`, tmpfs specs (dir size mode)... `--`, hidden paths... `--`, command.
 */
const UNSHARE_SCRIPT = `set -e
ws=$1; secs=$2; shift 2
ip link set lo up 2>/dev/null || true
mount --make-rprivate /
while read -r _ _ _ _ mp _; do
  mp=$(printf '%b' "$mp"); mount -o remount,bind,ro "$mp" 2>/dev/null || [ ! -e "$mp" ] || { echo "sandbox: cannot make $mp read-only" >&2; exit 70; }
done < /proc/self/mountinfo
mount -t tmpfs -o size=1m,mode=0755 tmpfs /mnt
mkdir /mnt/ws; mount --bind "$ws" /mnt/ws
i=0; binds=''
while [ "$1" != -- ]; do
  i=$((i+1)); mkdir "/mnt/b$i"; mount --bind "$1" "/mnt/b$i"; mount -o remount,bind,ro "/mnt/b$i"
  binds="$binds$1
"; shift
done; shift
mount -t tmpfs -o size=1m,mode=0755,nosuid tmpfs /dev
for n in null:3 zero:5 full:7 random:8 urandom:9; do mknod -m 666 "/dev/\${n%:*}" c 1 "\${n#*:}"; done
mknod -m 666 /dev/tty c 5 0
ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir /dev/shm /dev/pts
mount -o remount,ro /dev
while [ "$1" != -- ]; do mount -t tmpfs -o "size=$2,mode=$3,nosuid,nodev" tmpfs "$1"; shift 3; done; shift
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$1"; elif [ -e "$1" ]; then mount --bind /dev/null "$1"; fi
  shift
done; shift
i=0; printf '%s' "$binds" | while IFS= read -r b; do i=$((i+1)); mkdir -p "$b"; mount --move "/mnt/b$i" "$b"; done
mkdir -p ${SANDBOX_WORKDIR}
mount --move /mnt/ws ${SANDBOX_WORKDIR}
mount -o remount,bind,rw ${SANDBOX_WORKDIR}
cd ${SANDBOX_WORKDIR}
timeout -s KILL "$secs" "$@"`;

/** Joins the cgroups named before `--` (as root, before anything else runs), then becomes the rest. */
const JOIN_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"';

/** What the command line is built from. */
export interface SandboxSpec {
  isolation: 'unshare' | 'bubblewrap';
  dir: string;
  argv: string[];
  limits: Required<SandboxLimits>;
  /** Folders and files to cover (MAESTRO_HOME, host sockets...). */
  hide: string[];
  /** The sandbox's own uid (root workers); else the command runs as the worker's user (bwrap). */
  uid?: number;
  /** RLIMIT_NPROC to set. */
  nproc: number;
  /** `cgroup.procs` files to join. */
  cgroupProcs: string[];
  /** Whether `setpriv` exists (for the parent-death signal). */
  setpriv: boolean;
  /** Toolchains made visible read-only (repo tests; see sandbox-toolchains.ts). */
  toolchains?: Toolchains;
  /** Size of the sandbox's /tmp in MB (default 64; build caches live there). */
  tmpMb?: number;
}

function prlimitArgs(l: Required<SandboxLimits>, nproc: number): string[] {
  return [
    'prlimit',
    `--cpu=${l.cpuSeconds}`,
    `--data=${l.memoryMb * 1024 * 1024}`,
    `--nproc=${nproc}`,
    `--fsize=${64 * 1024 * 1024}`,
    '--core=0',
    '--',
  ];
}

/** The program and arguments the worker spawns for one sandboxed command. */
export function sandboxCommandLine(s: SandboxSpec): { cmd: string; args: string[] } {
  const secs = String(Math.ceil(s.limits.timeoutMs / 1000) + BACKSTOP_SECONDS);
  const tc = s.toolchains;
  const env = tc
    ? [...ENV.map((e) => (e.startsWith('PATH=') ? `PATH=${[...tc.path, e.slice(5)].join(':')}` : e)), ...tc.env]
    : ENV;
  const inner = ['env', '-i', ...env, ...prlimitArgs(s.limits, s.nproc), ...s.argv];
  const binds = tc?.binds ?? [];
  const dirs = writableDirs().map(
    ([d, size, mode]) => [d, d === '/tmp' && s.tmpMb ? `${s.tmpMb}m` : size, mode] as const,
  );
  const covered = [...dirs.map(([d]) => d), ...s.hide];
  // A hidden path that is a link is covered where it leads (bwrap cannot mount over a link).
  // One under a folder that gets a fresh tmpfs anyway (/tmp...) needs nothing more.
  const fresh = (p: string) => dirs.some(([d]) => p === d || p.startsWith(`${d}/`));
  const hiddenReal = s.hide
    .filter((h) => h.startsWith('/') && existsSync(h))
    .map((h) => realpathSync(h))
    .filter((h) => !fresh(h));
  const hidden = [...new Set([...hiddenReal, ...hostSocketPaths(covered)])];
  const drop = (uid: number) => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  let ns: string[];
  if (s.isolation === 'unshare') {
    const uid = s.uid ?? NOBODY;
    ns = [
      'unshare',
      ...['--net', '--pid', '--ipc', '--uts', '--fork', '--mount-proc', '--kill-child'],
      ...['sh', '-c', UNSHARE_SCRIPT, 'sandbox', s.dir, secs],
      ...binds,
      '--',
      ...dirs.flat(),
      '--',
      ...hidden,
      '--',
      ...drop(uid),
      '--no-new-privs',
      ...inner,
    ];
  } else {
    const cover = hidden.flatMap((h) => (lstatSync(h).isDirectory() ? ['--tmpfs', h] : ['--ro-bind', '/dev/null', h]));
    // As root, bwrap keeps only the capabilities to drop to the sandbox's uid (setpriv, inside):
    // no user namespace, so that uid is the real one RLIMIT_NPROC counts. Otherwise it runs as
    // the worker's user in a user namespace of its own.
    const asRoot = s.uid !== undefined;
    ns = [
      'bwrap',
      ...(asRoot
        ? ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try']
        : ['--unshare-all']),
      ...['--die-with-parent', '--new-session', '--cap-drop', 'ALL'],
      ...(asRoot ? ['--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID'] : []),
      ...['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'],
      ...dirs.flatMap(([d, size, mode]) => [
        ...(bwrapSizes() ? ['--perms', mode, '--size', toBytes(size)] : []),
        '--tmpfs',
        d,
      ]),
      ...cover,
      // Folders leading to a bind are made 0755 (bwrap would make them 0700: closed to the sandbox's uid).
      ...leadingDirs(
        binds,
        dirs.map(([d]) => d),
      ).flatMap((d) => [...(bwrapSizes() ? ['--perms', '0755'] : []), '--dir', d]),
      ...binds.flatMap((b) => ['--ro-bind', b, b]),
      ...['--bind', s.dir, SANDBOX_WORKDIR, '--chdir', SANDBOX_WORKDIR, '--'],
      ...['timeout', '-s', 'KILL', secs],
      ...(asRoot ? [...drop(s.uid ?? NOBODY), '--no-new-privs'] : []),
      ...inner,
    ];
  }
  const join = s.cgroupProcs.length > 0 ? ['sh', '-c', JOIN_SCRIPT, 'join', ...s.cgroupProcs, '--'] : [];
  const all = [...(s.setpriv ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []), ...join, ...ns];
  return { cmd: all[0] ?? 'false', args: all.slice(1) };
}

/** The folders between a covered folder (e.g. /root) and each bind (e.g. /root/go, /root/go/pkg), outermost first. */
function leadingDirs(binds: readonly string[], covered: readonly string[]): string[] {
  const out: string[] = [];
  for (const b of binds) {
    const base = covered.find((c) => b.startsWith(`${c}/`));
    if (!base) continue;
    const parts = b
      .slice(base.length + 1)
      .split('/')
      .slice(0, -1);
    parts.forEach((_, i) => out.push(`${base}/${parts.slice(0, i + 1).join('/')}`));
  }
  return [...new Set(out)];
}

let sizes: boolean | undefined;

/** Whether this bwrap sizes its tmpfs (`--size`, `--perms`: bubblewrap 0.7+); older ones still run, unsized. */
function bwrapSizes(): boolean {
  if (sizes === undefined) {
    const help = spawnSync('bwrap', ['--help'], { encoding: 'utf8', timeout: 5000 });
    sizes = `${help.stdout ?? ''}`.includes('--size') && `${help.stdout ?? ''}`.includes('--perms');
  }
  return sizes;
}

function toBytes(size: string): string {
  const m = /^(\d+)m$/.exec(size);
  return String(Number(m?.[1] ?? 1) * 1024 * 1024);
}
