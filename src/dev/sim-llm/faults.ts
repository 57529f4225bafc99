/**
 * The queue of injected faults. Faults are consumed in FIFO order among those whose match
 * applies to a request, each for `times` matching requests.
 */
import { FAULT_KINDS, type FaultKind, type FaultSpec } from './types';

/** What a request is matched against. */
export interface FaultTarget {
  schemaName: string;
  ticketId?: string;
  system: string;
}

/** Throws a readable error when `value` is not a usable FaultSpec; returns it typed otherwise. */
export function validateFault(value: unknown): FaultSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('a fault must be an object like {"kind":"rate-limit"}');
  const f = value as Record<string, unknown>;
  if (!FAULT_KINDS.includes(f.kind as FaultKind))
    throw new Error(`unknown fault kind ${JSON.stringify(f.kind)}; use one of: ${FAULT_KINDS.join(', ')}`);
  for (const key of ['times', 'retryAfterMs', 'latencyMs'] as const) {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new Error(`fault field ${key} must be a non-negative number`);
  }
  if (
    f.kind === 'tool-calls' &&
    (!Array.isArray(f.toolCalls) ||
      f.toolCalls.length === 0 ||
      !f.toolCalls.every(
        (c: unknown) =>
          typeof c === 'object' &&
          c !== null &&
          typeof (c as Record<string, unknown>).name === 'string' &&
          typeof (c as Record<string, unknown>).arguments === 'string',
      ))
  )
    throw new Error('a tool-calls fault needs toolCalls: [{"name": "...", "arguments": "<JSON text>"}, ...]');
  if (f.match !== undefined && (typeof f.match !== 'object' || f.match === null))
    throw new Error('fault field match must be an object');
  return f as unknown as FaultSpec;
}

interface Queued {
  spec: FaultSpec;
  left: number;
}

/** Injected faults waiting for matching requests. */
export class FaultQueue {
  private queue: Queued[] = [];

  /** Adds a fault at the end of the queue. */
  add(spec: FaultSpec): void {
    const f = validateFault(spec);
    const left = f.times === undefined ? 1 : Math.floor(f.times);
    if (left > 0) this.queue.push({ spec: { ...f, ...(f.match ? { match: { ...f.match } } : {}) }, left });
  }

  /** Drops every queued fault. */
  clear(): void {
    this.queue = [];
  }

  /** Number of fault applications still pending. */
  get size(): number {
    return this.queue.reduce((n, q) => n + q.left, 0);
  }

  /** Takes the first fault that applies to the request, if any. */
  take(target: FaultTarget): FaultSpec | undefined {
    const i = this.queue.findIndex((q) => matches(q.spec, target));
    const hit = this.queue[i];
    if (!hit) return undefined;
    hit.left -= 1;
    if (hit.left <= 0) this.queue.splice(i, 1);
    return hit.spec;
  }
}

function matches(spec: FaultSpec, t: FaultTarget): boolean {
  const m = spec.match;
  if (!m) return true;
  if (m.schemaName !== undefined && m.schemaName !== t.schemaName) return false;
  if (m.ticketId !== undefined && m.ticketId !== t.ticketId) return false;
  if (m.systemIncludes !== undefined && !t.system.includes(m.systemIncludes)) return false;
  return true;
}
