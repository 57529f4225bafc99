/**
 * The compose file's `temporal` service, run natively: what its image (`temporalio/auto-setup`)
 * does, with the Go-built server of the same version. The image's working folder /etc/temporal
 * becomes a temp folder holding the image's config template (`config/docker.yaml` of the module)
 * and the service's volumes; auto-setup's steps (schemas with temporal-sql-tool, then
 * `temporal-server --env docker start`, then the `default` namespace) run with the service's env.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TemporalServerBuild } from './server-binary';
import { waitUntilServing } from './temporal-server';

const run = promisify(execFile);

/** The image's working folder (paths in its env are relative to it). */
export const IMAGE_WORKDIR = '/etc/temporal';

/** A running (or exited) server process started like the image starts it. */
export interface ComposeTemporal {
  address: string;
  child: ChildProcess;
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * Lays out the image's working folder in `dir`: the config template, then each volume (`source`
 * relative to the repo) at its target under /etc/temporal, as a symlink.
 */
export function imageRoot(
  dir: string,
  build: TemporalServerBuild,
  volumes: { source: string; target: string }[],
  repoRoot: string,
): string {
  mkdirSync(path.join(dir, 'config'), { recursive: true });
  copyFileSync(build.dockerConfigTemplate, path.join(dir, 'config', 'docker.yaml'));
  for (const v of volumes) {
    if (!v.target.startsWith(`${IMAGE_WORKDIR}/`))
      throw new Error(`volume target outside ${IMAGE_WORKDIR}: ${v.target}`);
    const at = path.join(dir, v.target.slice(IMAGE_WORKDIR.length + 1));
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(path.resolve(repoRoot, v.source), at);
  }
  return dir;
}

/** auto-setup's schema step: both databases with the server's SQL tool, from the service's env. */
export async function setupSchemas(build: TemporalServerBuild, env: Record<string, string>): Promise<void> {
  for (const [db, sub, port] of [
    [env.DBNAME ?? 'temporal', 'temporal', env.DB_PORT],
    [env.VISIBILITY_DBNAME ?? 'temporal_visibility', 'visibility', env.POSTGRES_PORT ?? env.DB_PORT],
  ] as const) {
    const base = ['--plugin', env.DB!, '--ep', env.POSTGRES_SEEDS!, '-p', port!, '-u', env.POSTGRES_USER!];
    const steps = [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', path.join(build.postgresSchemaDir, sub, 'versioned')],
    ];
    for (const step of steps)
      await run(build.sqlTool, [...base, '--pw', env.POSTGRES_PWD ?? '', '--db', db, ...step], {
        maxBuffer: 16 * 1024 * 1024,
      });
  }
}

/** `temporal-server --env docker start` in `root` with `env`; resolves when it serves (or throws with its log). */
export async function startImageServer(
  build: TemporalServerBuild,
  root: string,
  env: Record<string, string>,
  address: string,
): Promise<ComposeTemporal> {
  const logFile = path.join(root, 'temporal-server.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(build.server, ['--env', 'docker', 'start'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.on('exit', () => child.kill('SIGKILL'));
  const handle: ComposeTemporal = {
    address,
    child,
    logTail: () => readFileSync(logFile, 'utf8').slice(-4000),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await waitUntilServing(address, undefined, () => child.exitCode !== null || child.signalCode !== null, logFile);
  return handle;
}
