/** Timing, statistics and memory helpers for the benchmarks (no assertions: they only measure). */
import { readFileSync } from 'node:fs';

/** Median of the values (mean of the middle two for an even count; NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Nearest-rank percentile `p` (0–100) of the values (NaN for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? NaN;
}

/** Rounds to `digits` decimals, for the JSON summary. */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** How long to measure a synchronous function. */
export interface SyncTiming {
  /** Each batch runs at least this long (more calls per batch for fast functions). */
  minBatchMs: number;
  /** Batches measured after one warm-up batch; the median batch is reported. */
  batches: number;
}

/** Result of {@link timeSync}: microseconds per call of the median and the fastest batch. */
export interface SyncResult {
  medianUs: number;
  minUs: number;
  callsPerBatch: number;
}

/**
 * Times `fn` in batches long enough for the clock to be accurate, after a warm-up that also
 * picks the batch size. Reporting the median batch keeps one GC pause or a noisy neighbour on a
 * 2-core machine from deciding the number.
 */
export function timeSync(fn: () => void, opts: SyncTiming): SyncResult {
  let calls = 1;
  for (;;) {
    const ms = batchMs(fn, calls);
    if (ms >= opts.minBatchMs || calls >= 1 << 24) break;
    calls = ms <= 0 ? calls * 10 : Math.max(calls * 2, Math.ceil((calls * opts.minBatchMs) / ms));
  }
  const perCallUs = Array.from({ length: opts.batches }, () => (batchMs(fn, calls) * 1000) / calls);
  return { medianUs: median(perCallUs), minUs: Math.min(...perCallUs), callsPerBatch: calls };
}

function batchMs(fn: () => void, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return performance.now() - t0;
}

/** Memory of this process in MB (after a full GC when node runs with --expose-gc). */
export interface MemorySnapshot {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** Whether a GC ran first (otherwise heapUsed includes garbage). */
  afterGc: boolean;
}

/** Takes a memory snapshot of this process. */
export function memorySnapshot(): MemorySnapshot {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  const mb = (b: number) => round(b / (1024 * 1024), 1);
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
    afterGc: gc !== undefined,
  };
}

/** Resident memory of another process in MB (Linux /proc), or undefined where that is not available. */
export function processRssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? round(Number(match[1]) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}
