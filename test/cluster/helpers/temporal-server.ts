/**
 * Runs the Go-built Temporal server on PostgreSQL the way a self-hosted cluster runs: schema
 * created with `temporal-sql-tool`, SQL visibility, a config file generated here (the settings of
 * the compose image: postgres12 plugin, `development-sql.yaml` dynamic config, 4 history shards),
 * optionally mTLS on the frontend. The process can be SIGKILLed and restarted on the same database.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { Postgres } from './postgres';
import type { TemporalServerBuild } from './server-binary';

const run = promisify(execFile);

/** Certificates for mTLS on the frontend (paths of PEM files). */
export interface ServerTls {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The client cert the server's own system worker presents to the frontend. */
  clientCert: string;
  clientKey: string;
  /** Name in the server certificate (clients connect to 127.0.0.1 and override the name). */
  serverName: string;
}

/** Options of {@link startTemporalServer}. */
export interface TemporalServerOptions {
  build: TemporalServerBuild;
  postgres: Postgres;
  /** Folder for the config and the log. */
  dir: string;
  /** Frontend gRPC port; the other services use the next ports (see `ports`). */
  port: number;
  tls?: ServerTls;
  log: (line: string) => void;
}

/** A running server. */
export interface TemporalServer {
  address: string;
  /** SIGKILL, the way a crash or an OOM kill ends it. */
  kill9(): Promise<void>;
  /** Starts the process again on the same database and waits until it answers. */
  restart(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  logTail(): string;
}

function ports(base: number) {
  return {
    frontend: base,
    history: base + 1,
    matching: base + 2,
    worker: base + 3,
    http: base + 4,
    membership: { frontend: base + 10, history: base + 11, matching: base + 12, worker: base + 13 },
  };
}

function datastore(db: string, pgAddr: string, maxConns: number): string {
  return `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${pgAddr}"
        connectProtocol: "tcp"
        user: "temporal"
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
}

function tlsBlock(tls: ServerTls | undefined): string {
  if (!tls) return '';
  return `  tls:
    frontend:
      server:
        certFile: "${tls.serverCert}"
        keyFile: "${tls.serverKey}"
        clientCaFiles: ["${tls.caCert}"]
        requireClientAuth: true
      client:
        serverName: "${tls.serverName}"
        rootCaFiles: ["${tls.caCert}"]
    systemWorker:
      certFile: "${tls.clientCert}"
      keyFile: "${tls.clientKey}"
      client:
        serverName: "${tls.serverName}"
        rootCaFiles: ["${tls.caCert}"]
`;
}

/** The server config (the shape of the module's development-postgres12.yaml). */
function configYaml(opts: TemporalServerOptions): string {
  const p = ports(opts.port);
  const pgAddr = `${opts.postgres.host}:${opts.postgres.port}`;
  const service = (name: keyof typeof p.membership, extra = '') => `  ${name}:
    rpc:
      grpcPort: ${p[name]}
      membershipPort: ${p.membership[name]}
      bindOnLocalHost: true
${extra}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore('temporal', pgAddr, 20)}
    postgres-visibility:
${datastore('temporal_visibility', pgAddr, 5)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
${tlsBlock(opts.tls)}services:
${service('frontend', `      httpPort: ${p.http}\n`)}${service('history')}${service('matching')}${service('worker')}clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${p.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${opts.build.dynamicConfigFile}"
  pollInterval: "10s"
`;
}

/** Creates both databases and their schemas with the server's own SQL tool. */
export async function createSchemas(build: TemporalServerBuild, pg: Postgres): Promise<void> {
  for (const [db, sub] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const base = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user, '--db', db];
    const steps = [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', path.join(build.postgresSchemaDir, sub, 'versioned')],
    ];
    for (const step of steps) {
      try {
        await run(build.sqlTool, [...base, ...step], { maxBuffer: 16 * 1024 * 1024 });
      } catch (err) {
        const e = err as Error & { stderr?: string };
        throw new Error(`temporal-sql-tool ${step[0]} on ${db} failed: ${e.message}\n${e.stderr ?? ''}`);
      }
    }
  }
}

/** Connection options for a client of this server (TLS with the override name when on). */
export function serverConnectionOptions(address: string, tls?: ServerTls) {
  return {
    address,
    ...(tls
      ? {
          tls: {
            serverNameOverride: tls.serverName,
            serverRootCACertificate: readFileSync(tls.caCert),
            clientCertPair: { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
          },
        }
      : {}),
  };
}

/** Starts the server and resolves once its frontend answers. */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<TemporalServer> {
  const configDir = path.join(opts.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, 'maestro.yaml'), configYaml(opts));
  const logFile = path.join(opts.dir, 'temporal-server.log');
  const address = `127.0.0.1:${opts.port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const fd = openSync(logFile, 'a');
    child = spawn(
      opts.build.server,
      ['--root', opts.dir, '--config', 'config', '--env', 'maestro', '--allow-no-auth', 'start'],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitUntilServing(address, opts.tls, () => c.exitCode !== null || c.signalCode !== null, logFile);
  };

  const stopWith = async (signal: NodeJS.Signals) => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };

  await launch();
  opts.log(`Temporal server ${address} up (pid ${child!.pid})`);
  process.on('exit', () => child?.kill('SIGKILL'));
  return {
    address,
    kill9: () => stopWith('SIGKILL'),
    restart: launch,
    stop: async () => {
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await stopWith('SIGTERM');
      clearTimeout(timer);
    },
    logTail: () => readFileSync(logFile, 'utf8').slice(-4000),
  };
}

/** Resolves once the frontend at `address` answers; throws with the log's tail when the process dies or 120 s pass. */
export async function waitUntilServing(
  address: string,
  tls: ServerTls | undefined,
  dead: () => boolean,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    if (dead())
      throw new Error(`Temporal server exited during start-up:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    try {
      const conn = await Connection.connect({ ...serverConnectionOptions(address, tls), connectTimeout: '2 seconds' });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(
    `Temporal server at ${address} did not answer in 120 s (${last}):\n${readFileSync(logFile, 'utf8').slice(-4000)}`,
  );
}
