/**
 * OpenTelemetry tracing of a worker process, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go
 * over OTLP/HTTP (protobuf-free JSON-over-HTTP exporter from the OTel JS SDK) to the user's
 * collector. Spans are made by the SDK's activity interceptor (`RunActivity:<type>`) and by
 * Maestro's own GenAI interceptor (run, plan, agent and chat spans; see run-spans.ts).
 */
import { context, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { maestroIdGenerator } from './span-ids';

/** Name of Maestro's tracer (instrumentation scope). */
export const TRACER_NAME = 'maestro';

/** A started tracing pipeline; `shutdown()` flushes pending spans. */
export interface Tracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
  /** Exports pending spans now (a short-lived client process ends right after its calls). */
  flush(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Starts tracing once per process when OTEL_EXPORTER_OTLP_ENDPOINT is set; undefined otherwise.
 * `service` names the process when OTEL_SERVICE_NAME does not (the first caller's wins).
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env, service = 'maestro-worker'): Tracing | undefined {
  if (active) return active;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) return undefined;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({
    resource: new Resource({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || service }),
    idGenerator: maestroIdGenerator,
  });
  // The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself.
  provider.addSpanProcessor(new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 }));
  trace.setGlobalTracerProvider(provider);
  active = {
    tracer: provider.getTracer(TRACER_NAME),
    shutdown: () => provider.shutdown(),
    flush: () => provider.forceFlush(),
  };
  return active;
}

/** Exports this process's pending spans, if tracing is on; never throws. */
export async function flushTracing(): Promise<void> {
  await active?.flush().catch(() => undefined);
}

/** The tracing pipeline of this process, if started. */
export function currentTracing(): Tracing | undefined {
  return active;
}
