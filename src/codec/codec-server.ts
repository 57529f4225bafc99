/**
 * Temporal's remote codec endpoints (`POST /encode`, `POST /decode`, JSON `{ payloads: [...] }`
 * with base64 fields) over node:http, so the Web UI and `temporal --codec-endpoint` can show
 * encrypted payloads decrypted without ever holding the key. CORS answers the UI's origin;
 * an optional bearer token keeps other callers out.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { readBody, sendJson } from '../dev/sim-llm/http-util';

/** Wire form of one payload: base64 metadata values and data (protobuf JSON mapping). */
export const JsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).optional(),
  data: z.string().optional(),
});
/** One payload as JSON. */
export type JsonPayload = z.infer<typeof JsonPayload>;

/** Request and response body of both endpoints. */
export const JsonPayloads = z.object({ payloads: z.array(JsonPayload) });
/** Payloads as JSON. */
export type JsonPayloads = z.infer<typeof JsonPayloads>;

/** Options of {@link startCodecServer}. */
export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Default 8888; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Origins allowed to call from a browser (the Web UI's, e.g. http://localhost:8233). */
  corsOrigins?: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
}

/** A running codec server. */
export interface CodecServer {
  /** Base URL, e.g. http://127.0.0.1:8888 (what `--ui-codec-endpoint` takes). */
  url: string;
  close(): Promise<void>;
}

const fromB64 = (s: string | undefined): Uint8Array => Buffer.from(s ?? '', 'base64');
const toB64 = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('base64');

function toPayload(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, fromB64(v)])),
    data: fromB64(p.data),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toB64(v)])),
    data: toB64(p.data),
  };
}

function sameToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(opts.corsOrigins ?? []);

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !(origins.has(origin) || origins.has('*'))) return {};
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type, x-namespace, authorization',
      vary: 'origin',
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    const route = (req.url ?? '').split('?')[0]!.replace(/\/+$/, '');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) {
      sendJson(res, 404, { error: 'Use POST /encode or POST /decode with {"payloads":[...]}.' }, cors);
      return;
    }
    if (opts.authToken && !sameToken(req.headers.authorization, opts.authToken)) {
      sendJson(res, 401, { error: 'Missing or wrong bearer token (Authorization: Bearer <token>).' }, cors);
      return;
    }
    let body: JsonPayloads;
    try {
      body = JsonPayloads.parse(JSON.parse(await readBody(req)));
    } catch {
      sendJson(res, 400, { error: 'The body must be JSON {"payloads":[{"metadata":{...},"data":"<base64>"}]}.' }, cors);
      return;
    }
    const payloads = body.payloads.map(toPayload);
    try {
      const out = route === '/encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
      sendJson(res, 200, { payloads: out.map(toJson) }, cors);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message }, cors);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: (err as Error).message }, corsHeaders(req)));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
