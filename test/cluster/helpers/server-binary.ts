/**
 * The official Temporal server and its SQL schema tool, built from the Go module at the version
 * docker-compose.yml runs, with the module's schema files and config files (the `docker.yaml`
 * template the compose image starts from, the `development-sql.yaml` dynamic config). The build is
 * cached outside the repo, under `${XDG_CACHE_HOME:-~/.cache}/maestro/temporal-server/<version>/<go
 * version>-<os>-<arch>/`, so fresh clones on the same machine (CI) reuse it: the first build takes
 * minutes (753 s once on a busy 2-core machine), later runs seconds.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
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
  /** `config/dynamicconfig/development-sql.yaml` of the module. */
  dynamicConfigFile: string;
  /** `config/docker.yaml` of the module: the env-driven template the server's Docker images start with. */
  dockerConfigTemplate: string;
  /** The cache folder of this build. */
  dir: string;
  /** Seconds the build took (0 when cached). */
  buildSeconds: number;
}

/** The version the compose file pins (read from `temporalio/auto-setup:<version>`). */
export function composeServerVersion(repoRoot: string): string | undefined {
  const compose = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
  return /image:\s*temporalio\/auto-setup:(\S+)/.exec(compose)?.[1];
}

/** The cache root of the builds of `version` (one sub-folder per Go toolchain and platform). */
export function serverCacheRoot(env: NodeJS.ProcessEnv = process.env, version = TEMPORAL_SERVER_VERSION): string {
  const cache = env.XDG_CACHE_HOME?.trim() || path.join(os.homedir(), '.cache');
  return path.join(cache, 'maestro', 'temporal-server', version);
}

function layout(dir: string): TemporalServerBuild {
  return {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
    dynamicConfigFile: path.join(dir, 'config', 'dynamicconfig', 'development-sql.yaml'),
    dockerConfigTemplate: path.join(dir, 'config', 'docker.yaml'),
    dir,
    buildSeconds: 0,
  };
}

function complete(b: TemporalServerBuild): boolean {
  return [b.server, b.sqlTool, b.postgresSchemaDir, b.dynamicConfigFile, b.dockerConfigTemplate].every((f) =>
    existsSync(f),
  );
}

/** `go1.26.8-linux-amd64`: the toolchain a build is keyed by; undefined without `go`. */
async function goKey(): Promise<string | undefined> {
  try {
    const out = (await run('go', ['env', 'GOVERSION', 'GOOS', 'GOARCH'])).stdout.trim().split('\n');
    return out.map((s) => s.trim()).join('-');
  } catch {
    return undefined;
  }
}

/**
 * Builds (or reuses) the server binaries; needs `go` on PATH to build. Without `go`, any cached
 * build of this version is used.
 */
export async function ensureTemporalServer(log: (line: string) => void): Promise<TemporalServerBuild> {
  const root = serverCacheRoot();
  const key = await goKey();
  if (!key) {
    const any = existsSync(root)
      ? readdirSync(root)
          .map((d) => layout(path.join(root, d)))
          .find(complete)
      : undefined;
    if (any) {
      log(`Temporal server ${TEMPORAL_SERVER_VERSION}: cached in ${any.dir} (no \`go\` on PATH)`);
      return any;
    }
    throw new Error(
      `Temporal server ${TEMPORAL_SERVER_VERSION} is not cached in ${root} and \`go\` is not on PATH to build it: install Go 1.25+ (https://go.dev/dl).`,
    );
  }
  const build = layout(path.join(root, key));
  if (complete(build)) {
    log(`Temporal server ${TEMPORAL_SERVER_VERSION}: cached in ${build.dir}`);
    return build;
  }
  const started = Date.now();
  log(
    `Building Temporal server ${TEMPORAL_SERVER_VERSION} with ${key} (minutes; cached in ${build.dir} afterwards)...`,
  );
  mkdirSync(root, { recursive: true });
  // Built into a temp folder beside the cache entry and renamed into place: a concurrent run or an
  // interrupted build never leaves a half-written entry.
  const staging = mkdtempSync(path.join(root, `.build-${key}-`));
  const mod = `go.temporal.io/server`;
  try {
    const gobin = path.join(staging, 'gobin');
    await run(
      'go',
      ['install', `${mod}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${mod}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`],
      { env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const modCache = (await run('go', ['env', 'GOMODCACHE'])).stdout.trim();
    const src = path.join(modCache, `${mod}@v${TEMPORAL_SERVER_VERSION}`);
    const staged = layout(path.join(staging, 'out'));
    cpSync(path.join(src, 'schema', 'postgresql', 'v12'), staged.postgresSchemaDir, { recursive: true });
    mkdirSync(path.dirname(staged.dynamicConfigFile), { recursive: true });
    copyFileSync(path.join(src, 'config', 'dynamicconfig', 'development-sql.yaml'), staged.dynamicConfigFile);
    copyFileSync(path.join(src, 'config', 'docker.yaml'), staged.dockerConfigTemplate);
    renameSync(path.join(gobin, 'sql'), staged.sqlTool);
    renameSync(path.join(gobin, 'server'), staged.server);
    if (!complete(build)) {
      rmSync(build.dir, { recursive: true, force: true });
      renameSync(staged.dir, build.dir);
    }
  } catch (err) {
    throw new Error(
      `Could not build Temporal server ${TEMPORAL_SERVER_VERSION} with \`go install\` (${(err as Error).message.slice(0, 2000)}). ` +
        'Install Go 1.25+ (https://go.dev/dl or your distribution) and check that proxy.golang.org is reachable.',
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  build.buildSeconds = Math.round((Date.now() - started) / 1000);
  log(`Built Temporal server ${TEMPORAL_SERVER_VERSION} in ${build.buildSeconds} s`);
  return build;
}
