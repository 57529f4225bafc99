/**
 * The official Temporal server and its SQL schema tool, built from the Go module at the version
 * docker-compose.yml runs, and cached under `.maestro/temporal-server/<version>/` with the schema
 * files and the dynamic config the compose image uses: the first run builds (minutes), later runs
 * reuse the binaries.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Server version; the same as the `temporalio/auto-setup` image in docker-compose.yml (a test checks). */
export const TEMPORAL_SERVER_VERSION = '1.29.7';

/** What the cluster harness needs from the build. */
export interface TemporalServerBuild {
  server: string;
  sqlTool: string;
  /** `schema/postgresql/v12` of the module: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemaDir: string;
  /** `config/dynamicconfig/development-sql.yaml`, the file the compose image is started with. */
  dynamicConfigFile: string;
  /** Seconds the build took (0 when cached). */
  buildSeconds: number;
}

/** The version the compose file pins (read from `temporalio/auto-setup:<version>`). */
export function composeServerVersion(repoRoot: string): string | undefined {
  const compose = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
  return /image:\s*temporalio\/auto-setup:(\S+)/.exec(compose)?.[1];
}

/** Builds (or reuses) the server binaries; needs `go` on PATH the first time. */
export async function ensureTemporalServer(
  repoRoot: string,
  log: (line: string) => void,
): Promise<TemporalServerBuild> {
  const dir = path.join(repoRoot, '.maestro', 'temporal-server', TEMPORAL_SERVER_VERSION);
  const build: TemporalServerBuild = {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    dynamicConfigFile: path.join(dir, 'dynamicconfig', 'development-sql.yaml'),
    buildSeconds: 0,
  };
  if ([build.server, build.sqlTool, build.postgresSchemaDir, build.dynamicConfigFile].every((f) => existsSync(f))) {
    log(`Temporal server ${TEMPORAL_SERVER_VERSION}: cached in ${dir}`);
    return build;
  }
  const started = Date.now();
  log(`Building Temporal server ${TEMPORAL_SERVER_VERSION} from go.temporal.io/server (minutes; cached afterwards)...`);
  const gobin = mkdtempSync(path.join(os.tmpdir(), 'maestro-gobin-'));
  const mod = `go.temporal.io/server`;
  try {
    await run(
      'go',
      ['install', `${mod}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${mod}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`],
      { env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const modCache = (await run('go', ['env', 'GOMODCACHE'])).stdout.trim();
    const src = path.join(modCache, `${mod}@v${TEMPORAL_SERVER_VERSION}`);
    mkdirSync(dir, { recursive: true });
    cpSync(path.join(src, 'schema', 'postgresql', 'v12'), build.postgresSchemaDir, { recursive: true });
    mkdirSync(path.dirname(build.dynamicConfigFile), { recursive: true });
    copyFileSync(path.join(src, 'config', 'dynamicconfig', 'development-sql.yaml'), build.dynamicConfigFile);
    renameSync(path.join(gobin, 'sql'), build.sqlTool);
    renameSync(path.join(gobin, 'server'), build.server);
  } catch (err) {
    throw new Error(
      `Could not build Temporal server ${TEMPORAL_SERVER_VERSION} with \`go install\` (${(err as Error).message.slice(0, 2000)}). ` +
        'Install Go 1.23+ (https://go.dev/dl or your distribution) and check that proxy.golang.org is reachable.',
    );
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  build.buildSeconds = Math.round((Date.now() - started) / 1000);
  log(`Built Temporal server ${TEMPORAL_SERVER_VERSION} in ${build.buildSeconds} s`);
  return build;
}
