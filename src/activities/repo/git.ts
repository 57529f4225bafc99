/**
 * The one way Maestro runs git (issue 20): as a child process with arguments (never a shell), a
 * bounded output, and an environment that ignores the host's and the user's git configuration,
 * hooks and credential prompts, so a repository's `.git/config` or a hostile `core.fsmonitor`
 * cannot run code on a worker or on the user's machine, and the same inputs make the same commits
 * on every host. Callers pass the repository with `gitDir`/`workTree` or `cwd`.
 */
import { execFile } from 'node:child_process';

/** A git command that failed: its arguments, exit code and stderr (bounded), for the message. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly code: number | string | undefined,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Options of one git invocation. */
export interface GitOptions {
  /** The repository's git directory (`--git-dir`). */
  gitDir?: string;
  /** The work tree (`--work-tree`), with gitDir. */
  workTree?: string;
  /** Working directory of the process (default: the current one). */
  cwd?: string;
  /** Extra environment (e.g. GIT_INDEX_FILE, GIT_ALTERNATE_OBJECT_DIRECTORIES, commit dates). */
  env?: Record<string, string>;
  /** Bytes written to stdin. */
  input?: string | Buffer;
  /** Most bytes of stdout kept (default 64 MiB); more fails the call. */
  maxBuffer?: number;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-tree` with conflicts). */
  okCodes?: number[];
  signal?: AbortSignal;
  /**
   * Repositories git may use although someone else owns them (`safe.directory` values). Default
   * `*` (Maestro's own copies); a person's repository gets their own configured list, so one a
   * stranger planted (a `.git` above the folder asked for) is refused as git refuses it.
   */
  safeDirectories?: readonly string[];
}

/** What a git invocation printed. */
export interface GitOutput {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** Identity of the commits Maestro writes (the trailers say which run and ticket made them). */
export const MAESTRO_IDENTITY = { name: 'Maestro', email: 'maestro@localhost' };

/**
 * The environment every git call gets: no system or global configuration, no prompts, no
 * optional locks (a `status` never rewrites the user's index), a fixed locale and identity.
 */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_ASKPASS: 'true',
    LC_ALL: 'C',
    GIT_AUTHOR_NAME: MAESTRO_IDENTITY.name,
    GIT_AUTHOR_EMAIL: MAESTRO_IDENTITY.email,
    GIT_COMMITTER_NAME: MAESTRO_IDENTITY.name,
    GIT_COMMITTER_EMAIL: MAESTRO_IDENTITY.email,
    ...extra,
  };
}

/**
 * Configuration given on every command line: a repository's own `.git/config` cannot start hooks,
 * an fsmonitor, a pager or a filter, nor follow `protocol.file` tricks through submodules.
 */
const SAFE_CONFIG = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.pager=cat',
  '-c',
  'protocol.file.allow=user',
  '-c',
  'advice.detachedHead=false',
  '-c',
  'gc.auto=0',
  // Paths that macOS or Windows read as `.git` (`.g\u200cit`, `git~1`) are never written to an index.
  '-c',
  'core.protectHFS=true',
  '-c',
  'core.protectNTFS=true',
];

/** Runs `git <args>`; fails with a GitError that quotes the command and its stderr. */
export function git(args: readonly string[], opts: GitOptions = {}): Promise<GitOutput> {
  const full = [
    ...SAFE_CONFIG,
    ...(opts.safeDirectories ?? ['*']).flatMap((d) => ['-c', `safe.directory=${d}`]),
    ...(opts.gitDir ? ['--git-dir', opts.gitDir] : []),
    ...(opts.workTree ? ['--work-tree', opts.workTree] : []),
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      full,
      {
        cwd: opts.cwd,
        env: gitEnv(opts.env),
        encoding: 'buffer',
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (err, stdout, stderrBuf) => {
        const stderr = stderrBuf.toString('utf8').slice(0, 4000);
        const code = err ? (err as NodeJS.ErrnoException & { code?: number | string }).code : 0;
        if (!err || (typeof code === 'number' && opts.okCodes?.includes(code)))
          return resolve({ stdout, stderr, code: typeof code === 'number' ? code : 0 });
        const what = `git ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' ...' : ''}`;
        const why = stderr.trim().split('\n').slice(-3).join('; ') || err.message;
        reject(new GitError(`${what} failed: ${why}`, args, code, stderr));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `git <args>` and its stdout as trimmed text. */
export async function gitText(args: readonly string[], opts: GitOptions = {}): Promise<string> {
  return (await git(args, opts)).stdout.toString('utf8').trim();
}
