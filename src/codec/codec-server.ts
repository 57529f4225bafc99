/**
 * Temporal's remote codec endpoints (`POST /encode`, `POST /decode`, JSON `{ payloads: [...] }`
 * with base64 fields) over node:http, so the Web UI and `temporal --codec-endpoint` can show
 * encrypted payloads decrypted without ever holding the key. CORS answers the UI's origin; an
 * optional token (a bearer header, or the first path segment for the Web UI, which cannot send
 * headers) keeps other callers out; codec-guard.ts refuses foreign hosts and oversized requests
 * before anything is decoded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { sendJson } from '../dev/sim-llm/http-util';
import {
  bodyShapeRefusal,
  hostAllowed,
  MAX_BODY_BYTES,
  payloadsRefusal,
  tokenMatches,
  type Refusal,
} from './codec-guard';

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
  /**
   * When set, requests must carry it: `Authorization: Bearer <token>`, or as the first path
   * segment (`/<token>/decode`, for the Web UI). Compared in constant time.
   */
  authToken?: string;
  /** Host names it answers to besides loopback names and the bound address (e.g. behind a proxy). */
  allowedHosts?: string[];
}

/** A running codec server. */
export interface CodecServer {
  /** Base URL, e.g. http://127.0.0.1:8888. */
  url: string;
  /** What the Web UI (`--ui-codec-endpoint`) and `temporal --codec-endpoint` take: the URL with the token path, if any. */
  endpoint: string;
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

/** The body as text, or a 413 refusal as soon as it passes MAX_BODY_BYTES (the rest is not read). */
function readBoundedBody(req: IncomingMessage): Promise<string | Refusal> {
  const tooLarge: Refusal = {
    status: 413,
    error: `The request body may be at most ${MAX_BODY_BYTES.toLocaleString('en-US')} bytes. Send fewer payloads per request.`,
  };
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.resolve(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        req.removeAllListeners('data');
        req.resume();
        resolve(tooLarge);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The route (`/encode` or `/decode`) and the token given in the path, if any. */
function routeOf(url: string | undefined): { route: string; pathToken?: string } {
  const parts = (url ?? '').split('?')[0]!.split('/').filter(Boolean);
  const route = `/${parts.at(-1) ?? ''}`;
  return parts.length === 2
    ? { route, pathToken: decodeURIComponent(parts[0]!) }
    : parts.length === 1
      ? { route }
      : { route: '' };
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const origins = new Set(opts.corsOrigins ?? []);
  const bindHost = opts.host ?? '127.0.0.1';

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

  /** Whether the request carries the token (header or path); true when none is configured. */
  function authorized(req: IncomingMessage, pathToken: string | undefined): boolean {
    if (!opts.authToken) return pathToken === undefined;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    return tokenMatches(pathToken ?? bearer, opts.authToken);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    if (!hostAllowed(req.headers.host, bindHost, opts.allowedHosts ?? [])) {
      const error = `Host "${req.headers.host ?? ''}" is not this codec server's: it answers to localhost, 127.0.0.1, ::1, ${bindHost}${opts.allowedHosts?.length ? `, ${opts.allowedHosts.join(', ')}` : ''} (add a name with --allowed-hosts).`;
      sendJson(res, 403, { error });
      return;
    }
    const origin = req.headers.origin;
    if (origin && !origins.has(origin) && !origins.has('*')) {
      sendJson(res, 403, {
        error: `Origin ${origin} may not call this codec server (allowed: ${[...origins].join(', ') || 'none'}).`,
      });
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const { route, pathToken } = routeOf(req.url);
    if (req.method !== 'POST' || (route !== '/encode' && route !== '/decode')) {
      sendJson(res, 404, { error: 'Use POST /encode or POST /decode with {"payloads":[...]}.' }, cors);
      return;
    }
    if (!authorized(req, pathToken)) {
      sendJson(
        res,
        401,
        { error: 'Missing or wrong token (Authorization: Bearer <token>, or the endpoint URL with the token path).' },
        cors,
      );
      return;
    }
    const text = await readBoundedBody(req);
    const early = typeof text === 'string' ? bodyShapeRefusal(text) : text;
    if (early || typeof text !== 'string') {
      sendJson(res, early!.status, { error: early!.error }, cors);
      return;
    }
    let body: JsonPayloads;
    try {
      body = JsonPayloads.parse(JSON.parse(text));
    } catch {
      sendJson(res, 400, { error: 'The body must be JSON {"payloads":[{"metadata":{...},"data":"<base64>"}]}.' }, cors);
      return;
    }
    const tooLarge = payloadsRefusal(body.payloads);
    if (tooLarge) {
      sendJson(res, tooLarge.status, { error: tooLarge.error }, cors);
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, bindHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${port}`;
  return {
    url,
    endpoint: opts.authToken ? `${url}/${encodeURIComponent(opts.authToken)}` : url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
