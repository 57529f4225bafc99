/**
 * An OTLP/HTTP (JSON) trace receiver for tests: worker and CLI processes export to it through
 * OTEL_EXPORTER_OTLP_ENDPOINT, and the test reads the spans (names, kinds, parents, status,
 * attributes) it collected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  status?: { code?: number; message?: string };
  attributes?: { key: string; value: OtlpValue }[];
}

/** A received span; `kind` and `status` as OTLP numbers them (kind 1 internal, 3 client; status 2 error). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code: number; message?: string };
  attrs: Record<string, string | number | boolean>;
}

/** OTLP's SpanKind numbers. */
export const OTLP_KIND = { internal: 1, server: 2, client: 3 } as const;
/** OTLP's status codes. */
export const OTLP_STATUS = { unset: 0, ok: 1, error: 2 } as const;

export interface OtlpReceiver {
  /** http://127.0.0.1:port, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  close(): void;
}

function valueOf(v: OtlpValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return Number(v.intValue);
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const collect = (body: string) => {
    const parsed = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
    for (const rs of parsed.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind ?? 0,
            status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
            attrs: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
          });
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') collect(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => server.close(),
  };
}

/**
 * Waits (up to 30 s) until `receiver` has the root span of run `runId`, then for the last batch;
 * the root span and every span of its trace. Fails the test when no root span arrives.
 */
export async function spansOfRun(
  receiver: OtlpReceiver,
  runId: string,
): Promise<{ run: ReceivedSpan | undefined; inRun: ReceivedSpan[] }> {
  const deadline = Date.now() + 30_000;
  const root = () =>
    receiver.spans.find((s) => s.name === 'invoke_workflow maestro' && s.attrs['gen_ai.conversation.id'] === runId);
  while (!root() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1500)); // the last batch
  const run = root();
  // Without a root span, the run's spans are found by the trace id its run id derives.
  const traceId = run?.traceId ?? receiver.spans.find((s) => s.attrs['gen_ai.conversation.id'] === runId)?.traceId;
  return { run, inRun: receiver.spans.filter((s) => s.traceId === traceId) };
}

/** The Prometheus text lines of metric `name` (exact family member, e.g. `x_count`) whose labels include all of `labels`. */
export function promLines(text: string, name: string, labels: Record<string, string> = {}): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`{${k}="${v}"`) || l.includes(`,${k}="${v}"`)));
}

/** The sum of the values of `lines`. */
export const promSum = (lines: string[]): number => lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);

/** The label names of one Prometheus text line. */
export function labelNames(line: string): string[] {
  const inner = /\{(.*)\}/.exec(line)?.[1] ?? '';
  return [...inner.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)].map((m) => m[1]!);
}
