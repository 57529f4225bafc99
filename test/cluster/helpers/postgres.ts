/**
 * A throw-away PostgreSQL server from the distribution's packages (Debian's `postgresql`):
 * initdb in a temp folder, TCP on 127.0.0.1 at a given port, trust auth for user `temporal`.
 * initdb refuses to run as root, so as root it runs as the `postgres` system user.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running PostgreSQL. */
export interface Postgres {
  host: string;
  port: number;
  user: string;
  stop(): Promise<void>;
}

/** Where the PostgreSQL binaries are: PATH, else Debian's /usr/lib/postgresql/<major>/bin. */
function pgBin(name: string): string {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) {
      const p = path.join(debian, m, 'bin', name);
      if (existsSync(p)) return p;
    }
  }
  return name;
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
async function pg(name: string, args: string[]): Promise<string> {
  const asRoot = os.userInfo().uid === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', pgBin(name), ...args]] : [pgBin(name), args];
  try {
    return (await run(cmd, argv, { maxBuffer: 8 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Creates a cluster in a new temp folder (its own, so the `postgres` user can enter it) and
 * starts it on `port`; `stop()` removes the folder.
 */
export async function startPostgres(opts: { port: number }): Promise<Postgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-pg-'));
  if (os.userInfo().uid === 0) {
    const { uid, gid } = await run('id', ['-u', 'postgres']).then(async (u) => ({
      uid: Number(u.stdout.trim()),
      gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
    }));
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  await pg('initdb', ['-D', data, '-U', 'temporal', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  await pg('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'postgres.log'),
    '-w',
    '-o',
    `-p ${opts.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  return {
    host: '127.0.0.1',
    port: opts.port,
    user: 'temporal',
    stop: async () => {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
