/**
 * Connections to Temporal from configuration: the same code talks to the embedded dev server,
 * a self-hosted cluster or Temporal Cloud (TLS / API key), so nothing changes between them.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { maestroDataConverter } from '../codec/data-converter';
import type { MaestroConfig } from '../config';
import { RunTraceClientInterceptor } from '../telemetry/client-tracing';
import { startTracing } from '../telemetry/tracing';
import { TemporalUnreachableError } from './errors';

/** Address to use when none is configured. */
export const LOCAL_ADDRESS = 'localhost:7233';

function connectionOptions(config: MaestroConfig, address: string) {
  return {
    address,
    ...(config.temporal.tls ? { tls: config.temporal.tlsSettings ?? true } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  };
}

/**
 * A workflow client; close its `connection` when done. With OTEL_EXPORTER_OTLP_ENDPOINT set, its
 * calls that change a run are traced into the run's trace (telemetry/client-tracing.ts).
 */
export async function connectClient(config: MaestroConfig, address: string): Promise<Client> {
  const tracing = startTracing(process.env, 'maestro-client');
  try {
    const connection = await Connection.connect({
      ...connectionOptions(config, address),
      connectTimeout: '10 seconds',
    });
    const dataConverter = maestroDataConverter(config);
    return new Client({
      connection,
      namespace: config.temporal.namespace,
      ...(dataConverter ? { dataConverter } : {}),
      ...(tracing ? { interceptors: { workflow: [new RunTraceClientInterceptor()] } } : {}),
    });
  } catch (err) {
    throw new TemporalUnreachableError(
      address,
      `Cannot reach Temporal at ${address} (${(err as Error).message}). Start it with \`maestro dev\`, or set TEMPORAL_ADDRESS to a running server.`,
    );
  }
}

/** A worker connection; close it after the worker has shut down. */
export async function connectWorker(config: MaestroConfig, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config, address));
}
