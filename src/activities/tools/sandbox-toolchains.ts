/**
 * Real toolchains in the sandbox, offline (issue 20: a repository's own tests). The sandbox covers
 * /root, /home and /tmp with empty tmpfs, which hides where Go's module cache, pyenv's Python or
 * rustup usually live; this module finds them from the worker's own environment (`go env`,
 * Python's `sys.prefix`, npm's cache) and gives the sandbox read-only binds of them, the folders
 * of their programs on PATH, and an environment that writes build caches to the sandbox's own
 * /tmp and never tries the network (GOPROXY=off, GOFLAGS=-mod=readonly, npm offline, cargo offline).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** What a sandbox needs to run the worker's toolchains. */
export interface Toolchains {
  /** Host folders bound read-only at the same path (only those a sandbox tmpfs would hide). */
  binds: string[];
  /** Folders of the toolchains' programs, put first on PATH. */
  path: string[];
  /** `NAME=value` entries added to the command's environment. */
  env: string[];
}

/** MB of a toolchain sandbox's /tmp, where build caches go (Go's for a small module is ~70 MB). */
export const TOOLCHAIN_TMP_MB = 1024;

/** Folders every sandbox covers with an empty tmpfs (see sandbox-command.ts WRITABLE). */
const COVERED = ['/tmp', '/var/tmp', '/dev/shm', '/run', '/root', '/home'];

/** A path a sandbox argument may carry: absolute, no control characters or newlines. */
const SAFE = /^\/[^\0-\x1f]*$/;

function out(cmd: string, args: string[]): string {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 ? r.stdout.trim() : '';
  } catch {
    return '';
  }
}

function real(p: string): string | undefined {
  if (!p || !SAFE.test(p) || !existsSync(p)) return undefined;
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

const under = (p: string, dirs: readonly string[]) => dirs.some((d) => p === d || p.startsWith(`${d}/`));

/**
 * Detects the worker's toolchains (Go, Python, npm's cache, Rust). Folders under `hidden` (the
 * Maestro home, the artifact store) are never bound, nor is a folder that contains one.
 */
export function detectToolchains(hidden: readonly string[] = []): Toolchains {
  return withoutHidden(detectAll(), hidden);
}

function detectAll(): Toolchains {
  const binds = new Set<string>();
  const bins: string[] = [];
  const env: string[] = [
    // readonly: a test run never rewrites go.mod/go.sum (they would land in the ticket's commit).
    'GOFLAGS=-mod=readonly -buildvcs=false',
    'GOPROXY=off',
    'GONOSUMDB=*',
    'GOSUMDB=off',
    'GOTOOLCHAIN=local',
    'GOTELEMETRY=off',
    'GOCACHE=/tmp/.cache/go-build',
    'GOTMPDIR=/tmp',
    'XDG_CACHE_HOME=/tmp/.cache',
    'PYTHONDONTWRITEBYTECODE=1',
    'PIP_NO_INDEX=1',
    'npm_config_logs_dir=/tmp/.npm-logs',
    'CARGO_NET_OFFLINE=true',
    'CARGO_TARGET_DIR=/tmp/.cache/cargo-target',
  ];
  const bind = (p: string | undefined) => {
    if (p && under(p, COVERED)) binds.add(p);
  };
  // Go: GOROOT's programs, and the module cache read-only.
  const go = out('go', ['env', 'GOROOT', 'GOMODCACHE']).split('\n');
  const goroot = real(go[0] ?? '');
  const modcache = real(go[1] ?? '');
  if (goroot) {
    bind(goroot);
    bins.push(path.join(goroot, 'bin'));
  }
  if (modcache) {
    bind(modcache);
    env.push(`GOMODCACHE=${modcache}`);
  }
  // Python: the installation (sys.prefix and its base) with its site-packages.
  const py = out('python3', [
    '-c',
    'import sys,site,os;print(sys.prefix);print(sys.base_prefix);print(os.path.dirname(os.path.realpath(sys.executable)));print("\\n".join(site.getsitepackages()))',
  ]).split('\n');
  const [prefix, basePrefix, exeDir, ...sites] = py;
  for (const p of [prefix, basePrefix, ...sites]) bind(real(p ?? ''));
  const pyBin = real(exeDir ?? '');
  if (pyBin) bins.push(pyBin);
  // npm: its cache, read-only (installs from it with npm_config_offline).
  const npmCache = real(out('npm', ['config', 'get', 'cache']));
  if (npmCache) {
    bind(npmCache);
    env.push(`npm_config_cache=${npmCache}`);
  }
  // Rust: rustup's toolchains and cargo's registry, read-only.
  const home = process.env.HOME ?? '/root';
  const cargoHome = real(process.env.CARGO_HOME ?? path.join(home, '.cargo'));
  const rustupHome = real(process.env.RUSTUP_HOME ?? path.join(home, '.rustup'));
  if (cargoHome) {
    bind(cargoHome);
    bins.push(path.join(cargoHome, 'bin'));
    env.push(`CARGO_HOME=${cargoHome}`);
  }
  if (rustupHome) {
    bind(rustupHome);
    env.push(`RUSTUP_HOME=${rustupHome}`);
  }
  // A bind inside another bind is already there.
  const outer = [...binds].filter((b) => ![...binds].some((o) => o !== b && under(b, [o])));
  return { binds: outer.sort(), path: [...new Set(bins)].filter((b) => SAFE.test(b) && !b.includes(':')), env };
}

/** `t` without the binds that are, or contain, a hidden folder. */
function withoutHidden(t: Toolchains, hidden: readonly string[]): Toolchains {
  const hide = hidden.filter((h) => h.startsWith('/')).map((h) => real(h) ?? h);
  return { ...t, binds: t.binds.filter((b) => !hide.some((h) => under(b, [h]) || under(h, [b]))) };
}

let cached: Toolchains | undefined;

/** The toolchains of this worker (detected once per process), without the hidden folders. */
export function workerToolchains(hidden: readonly string[] = []): Toolchains {
  cached ??= detectAll();
  return withoutHidden(cached, hidden);
}
