/**
 * `connectMaestro()`: a MaestroClient from the same settings the CLI reads (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TLS / API key, MAESTRO_TASK_QUEUE, maestro.config.json), so a script and
 * `maestro status` always look at the same runs. Unlike the CLI it never starts a server: start
 * `maestro dev` (or point TEMPORAL_ADDRESS at a cluster) first.
 */
import { embeddedPort, loadConfig, runRoles } from '../config';
import { MaestroClient } from './api';
import { connectClient } from './connection';
import { recordedUiUrl } from '../dev/server-owner';

/** Overrides of what the environment configures; everything is optional. */
export interface ConnectMaestroOptions {
  /** `host:port` of Temporal (default TEMPORAL_ADDRESS, else localhost:MAESTRO_TEMPORAL_PORT, else localhost:7233). */
  address?: string;
  /** Temporal namespace (default TEMPORAL_NAMESPACE, else `default`). */
  namespace?: string;
  /** Task queue of Maestro's workers (default MAESTRO_TASK_QUEUE, else `maestro`). */
  taskQueue?: string;
  /** Environment to read instead of process.env. */
  env?: NodeJS.ProcessEnv;
  /** Folder to look for maestro.config.json in (default: the working directory). */
  cwd?: string;
}

function localUiUrl(env: NodeJS.ProcessEnv, uiPort: number): string | undefined {
  return recordedUiUrl(embeddedPort(env)) ?? (uiPort !== 0 ? `http://localhost:${uiPort}` : undefined);
}

/**
 * Connects to Temporal as configured and returns a client for Maestro runs; close it with
 * `client.close()`. Throws ConfigError for invalid settings, TemporalUnreachableError when no
 * server answers.
 */
export async function connectMaestro(opts: ConnectMaestroOptions = {}): Promise<MaestroClient> {
  const config = loadConfig(opts.env ?? process.env, opts.cwd ?? process.cwd());
  // As the CLI: without TEMPORAL_ADDRESS, `maestro dev`'s server on MAESTRO_TEMPORAL_PORT.
  const address = opts.address ?? config.temporal.address ?? `localhost:${embeddedPort(opts.env ?? process.env)}`;
  const namespace = opts.namespace ?? config.temporal.namespace;
  const client = await connectClient({ ...config, temporal: { ...config.temporal, namespace } }, address);
  // As the CLI: without TEMPORAL_ADDRESS the server is `maestro dev`'s, whose Web UI is on MAESTRO_UI_PORT.
  // Its real port as `maestro dev` recorded it (MAESTRO_UI_PORT=0 lets the server pick one).
  const local =
    opts.address || config.temporal.address ? undefined : localUiUrl(opts.env ?? process.env, config.uiPort);
  const webUiUrl = config.webUiUrl ?? local;
  return new MaestroClient(client, opts.taskQueue ?? config.temporal.taskQueue, {
    roles: runRoles(config),
    bossModel: config.boss.model,
    notify: config.notify,
    home: config.home,
    ...(webUiUrl ? { webUiUrl } : {}),
  });
}
