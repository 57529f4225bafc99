/**
 * A chat-completions-only stand-in for src/gateway (built in parallel on s21-gateway) with the
 * same contract (gateway-port.ts): bearer token, permits, a ledger of LlmCallRecords, a Unix socket, and every
 * request body kept for hygiene checks. It forwards to `upstream.baseUrl` (the simulator) without
 * streaming. The executor's own tests use it; the real CLIs need the real gateway.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway, GatewayOptions } from '../../src/activities/executor/gateway-port';
import type { LlmCallRecord } from '../../src/shared/types';

/** Everything a test may want to inspect of the stub gateways it started. */
export interface StubGatewayLog {
  requests: string[];
  started: GatewayOptions[];
  refused: number;
  /** Listen on TCP even when asked for a socket (exercises the executor's bridge). */
  tcpOnly?: boolean;
}

/** A `startGateway` over the stub, logging into `log`. */
export function stubGateway(log: StubGatewayLog) {
  return async (o: GatewayOptions): Promise<Gateway> => {
    log.started.push(o);
    const token = randomBytes(16).toString('hex');
    const ledger: LlmCallRecord[] = [];
    let stopped: { reason: string; message: string } | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          if (req.headers.authorization !== `Bearer ${token}`) {
            res.writeHead(401).end('{"error":{"message":"bad token"}}');
            return;
          }
          if (o.permits !== undefined && ledger.length >= o.permits) {
            stopped ??= { reason: 'permits', message: 'permits used up' };
            log.refused++;
            res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"permits used up"}}');
            return;
          }
          const body = Buffer.concat(chunks).toString('utf8');
          log.requests.push(body);
          const started = Date.now();
          const parsed = JSON.parse(body) as Record<string, unknown>;
          const up = await fetch(`${o.llm.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${o.llm.apiKey ?? 'x'}` },
            body: JSON.stringify({ ...parsed, model: o.model, stream: false }),
          });
          const text = await up.text();
          let usage = { prompt_tokens: 0, completion_tokens: 0 };
          try {
            usage = (JSON.parse(text) as { usage?: typeof usage }).usage ?? usage;
          } catch {
            // not JSON: booked with no tokens
          }
          ledger.push({
            ...o.meta,
            model: o.model,
            promptTokens: usage.prompt_tokens,
            cachedTokens: 0,
            completionTokens: usage.completion_tokens,
            usd: 0,
            latencyMs: Date.now() - started,
            startedAt: new Date(started).toISOString(),
            repaired: false,
            ...(up.ok ? {} : { error: `http ${up.status}` }),
          });
          res.writeHead(up.status, { 'content-type': 'application/json' }).end(text);
        })().catch((err: unknown) => res.writeHead(502).end(String(err)));
      });
    });
    // Like the real gateway: on the attempt folder's socket when asked to (the executor's path),
    // else on TCP (the executor then bridges).
    const onSocket = o.socketPath !== undefined && log.tcpOnly !== true;
    await new Promise<void>((r) => (onSocket ? server.listen(o.socketPath, r) : server.listen(0, '127.0.0.1', r)));
    if (onSocket) chmodSync(o.socketPath!, 0o777);
    const port = onSocket ? 0 : (server.address() as AddressInfo).port;
    return {
      ...(onSocket ? { socketPath: o.socketPath! } : { url: `http://127.0.0.1:${port}` }),
      token,
      ledger: () => ({ calls: [...ledger], ...(stopped ? { stopped } : {}) }),
      requestLogText: () => log.requests.map((r) => `${r}\n`).join(''),
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  };
}
