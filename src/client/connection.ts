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
import { diagnosePlaintext, diagnoseTls } from './tls-diagnosis';

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
    const connection = await withTlsDiagnosis(
      config,
      address,
      Connection.connect({ ...connectionOptions(config, address), connectTimeout: '10 seconds' }),
    );
    const dataConverter = maestroDataConverter(config);
    return new Client({
      connection,
      namespace: config.temporal.namespace,
      ...(dataConverter ? { dataConverter } : {}),
      ...(tracing ? { interceptors: { workflow: [new RunTraceClientInterceptor()] } } : {}),
    });
  } catch (err) {
    if (err instanceof TemporalUnreachableError) throw err;
    throw new TemporalUnreachableError(
      address,
      `Cannot reach Temporal at ${address} (${(err as Error).message}). Start it with \`maestro dev\`, or set TEMPORAL_ADDRESS to a running server.`,
    );
  }
}

/** A worker connection; close it after the worker has shut down. */
export async function connectWorker(config: MaestroConfig, address: string): Promise<NativeConnection> {
  return withTlsDiagnosis(config, address, NativeConnection.connect(connectionOptions(config, address)));
}

/** Anything with a close(), to release a connection that is no longer wanted. */
interface Closable {
  close(): Promise<void>;
}

/**
 * Waits for `connecting`, and with TLS on, races it against a direct TLS handshake: a TLS mistake
 * (untrusted or misnamed server certificate, refused or missing client certificate, a server
 * without TLS) fails within milliseconds with a message naming the setting, instead of the SDK's
 * generic timeout. After a plain-text connect fails, it says whether the server requires TLS.
 */
async function withTlsDiagnosis<C extends Closable>(
  config: MaestroConfig,
  address: string,
  connecting: Promise<C>,
): Promise<C> {
  const tlsError = (problem: string) =>
    new TemporalUnreachableError(address, `TLS error connecting to Temporal at ${address}: ${problem}`);
  if (!config.temporal.tls) {
    try {
      return await connecting;
    } catch (err) {
      const problem = await diagnosePlaintext(address).catch(() => undefined);
      throw problem ? tlsError(problem) : err;
    }
  }
  const diagnosis = diagnoseTls(address, config.temporal).catch(() => undefined);
  const refused = diagnosis.then((problem) =>
    problem ? Promise.reject(tlsError(problem)) : new Promise<never>(() => undefined),
  );
  try {
    return await Promise.race([connecting, refused]);
  } catch (err) {
    // The connection may still come up (or fail) later: release it either way.
    connecting
      .then(
        (c) => c.close(),
        () => undefined,
      )
      .catch(() => undefined);
    if (err instanceof TemporalUnreachableError) throw err;
    const problem = await diagnosis;
    throw problem ? tlsError(problem) : err;
  }
}
