/**
 * `run_command`'s sandbox. A command runs in its ticket's fresh workspace folder with no network,
 * as an unprivileged user, under wall-clock, CPU, memory, file-size and process-count limits, and
 * only if its program is allow-listed. Isolation, strongest first: Linux namespaces via `unshare`
 * (when the worker runs as root: own network, PID and mount namespaces, private /tmp, the rest of
 * the file system read-only to the command's user), else bubblewrap (`bwrap`) when installed;
 * with neither, commands are refused, never run unsandboxed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { DEFAULT_SANDBOX_TIMEOUT_MS, SANDBOX_PROGRAMS, type SandboxLimits } from '../../shared/tools';

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
};

/** User and group the command runs as under `unshare` (nobody/nogroup). */
const SANDBOX_UID = 65534;

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_WORKDIR = '/tmp/ws';

let detected: Isolation | undefined;

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

/** Whether this machine can isolate commands the given way (probed by running one). */
export function isolationAvailable(kind: Exclude<Isolation, 'none'>): boolean {
  if (!works('prlimit', ['--version'])) return false;
  if (kind === 'bubblewrap') return works('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true']);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return (
    root && works('setpriv', ['--version']) && works('unshare', ['--net', '--pid', '--fork', '--mount-proc', 'true'])
  );
}

/** The strongest isolation this machine offers (probed once per process). */
export function detectIsolation(): Isolation {
  detected ??= isolationAvailable('unshare') ? 'unshare' : isolationAvailable('bubblewrap') ? 'bubblewrap' : 'none';
  return detected;
}

/**
 * RLIMIT_NPROC counts every process of the user. Under `unshare` that user is nobody, owned by the
 * sandboxes alone; under bubblewrap it is the worker's own user, so its running processes are
 * added to the allowance.
 */
function processAllowance(isolation: Isolation, max: number): number {
  if (isolation !== 'bubblewrap' || typeof process.getuid !== 'function') return max;
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
}

const ENV = [
  'PATH=/usr/local/bin:/usr/bin:/bin',
  'HOME=/tmp',
  'LANG=C.UTF-8',
  'CI=true',
  'npm_config_cache=/tmp/.npm',
  'npm_config_update_notifier=false',
  'npm_config_offline=true',
];

function prlimitArgs(l: Required<SandboxLimits>, isolation: Isolation): string[] {
  return [
    'prlimit',
    `--cpu=${l.cpuSeconds}`,
    `--data=${l.memoryMb * 1024 * 1024}`,
    `--nproc=${processAllowance(isolation, l.maxProcesses)}`,
    `--fsize=${64 * 1024 * 1024}`,
    '--core=0',
    '--',
  ];
}

/**
 * Runs in the new namespaces as root: private mounts, the workspace moved to /tmp/ws over a fresh
 * /tmp, home folders and `hide` folders covered, then runs the command as nobody with no new
 * privileges. The shell stays PID 1 of the namespace (no `exec`): it keeps `--kill-child`'s
 * parent-death signal, which dropping privileges would clear, so killing `unshare` kills the
 * namespace's init and with it every process the command started.
 */
const UNSHARE_SCRIPT = `set -e
mount --make-rprivate /
mount --bind "$1" /mnt
mount -t tmpfs -o size=64m,mode=1777 tmpfs /tmp
for d in /var/tmp /dev/shm /root /home $2; do if [ -d "$d" ]; then mount -t tmpfs -o size=1m,mode=0755 tmpfs "$d"; fi; done
mkdir -p ${SANDBOX_WORKDIR}
mount --move /mnt ${SANDBOX_WORKDIR}
cd ${SANDBOX_WORKDIR}
shift 2
"$@"`;

function commandLine(
  isolation: Isolation,
  dir: string,
  argv: string[],
  limits: Required<SandboxLimits>,
  hide: string[],
) {
  const inner = ['env', '-i', ...ENV, ...prlimitArgs(limits, isolation), ...argv];
  if (isolation === 'unshare') {
    const drop = ['setpriv', `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, '--clear-groups', '--no-new-privs'];
    const hidden = hide.filter((h) => /^\/[\w./-]+$/.test(h)).join(' ');
    return {
      cmd: 'unshare',
      args: [
        '--net',
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child',
        'sh',
        '-c',
        UNSHARE_SCRIPT,
        'sandbox',
        dir,
        hidden,
        ...drop,
        ...inner,
      ],
    };
  }
  const hidden = hide.flatMap((h) => ['--tmpfs', h]);
  return {
    cmd: 'bwrap',
    args: [
      '--unshare-all',
      // As root, a user namespace maps the command to nobody; capabilities are dropped either way.
      ...(process.getuid?.() === 0
        ? ['--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID)]
        : []),
      '--cap-drop',
      'ALL',
      '--die-with-parent',
      '--new-session',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/root',
      '--tmpfs',
      '/home',
      ...hidden,
      '--bind',
      dir,
      SANDBOX_WORKDIR,
      '--chdir',
      SANDBOX_WORKDIR,
      ...inner,
    ],
  };
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
  /** Folders to cover with an empty tmpfs (e.g. MAESTRO_HOME): readable by nobody in the sandbox. */
  hide?: string[];
  isolation?: Isolation;
  signal?: AbortSignal;
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
  const { cmd, args } = commandLine(isolation, run.dir, run.argv, limits, run.hide ?? []);
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
      resolve({
        ...(stopped === undefined && code !== null ? { exitCode: code } : {}),
        ...(stopped !== undefined ? { stopped } : {}),
        output: Buffer.concat(chunks).toString('utf8'),
        bytes,
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (err) => {
      stopped ??= `could not start the sandbox: ${err.message}`;
      done(null, null);
    });
    child.on('close', done);
  });
}
