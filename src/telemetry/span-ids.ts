/**
 * Span and trace ids: random, except inside `withDerivedIds`, which lets the run span carry ids
 * derived from the run id (see run-spans.ts), so spans from any worker can name it as parent.
 */
import { randomBytes } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

let forced: { traceId: string; spanId: string } | undefined;

/** The id generator of Maestro's tracer provider. */
export const maestroIdGenerator: IdGenerator = {
  generateTraceId: () => forced?.traceId ?? randomBytes(16).toString('hex'),
  generateSpanId: () => forced?.spanId ?? randomBytes(8).toString('hex'),
};

/** Runs `fn` (which starts one root span, synchronously) with the given ids. */
export function withDerivedIds<T>(ids: { traceId: string; spanId: string }, fn: () => T): T {
  forced = ids;
  try {
    return fn();
  } finally {
    forced = undefined;
  }
}
