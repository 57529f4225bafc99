/**
 * A chat-completions-only stand-in for src/gateway (built in parallel on s21-gateway) with the
 * same contract (gateway-port.ts): bearer token, permits, a ledger of LlmCallRecords, and every
 * request body kept for hygiene checks. It forwards to `upstream.baseUrl` (the simulator) without
 * streaming. The executor's own tests use it; the real CLIs need the real gateway.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway, GatewayOptions } from '../../src/activities/executor/gateway-port';
import type { LlmCallRecord } from '../../src/shared/types';

/** Everything a test may want to inspect of the stub gateways it started. */
export interface StubGatewayLog {
  requests: string[];
  started: GatewayOptions[];
  refused: number;
}

/** A `startGateway` over the stub, logging into `log`. */
export function stubGateway(log: StubGatewayLog) {
  return async (o: GatewayOptions): Promise<Gateway> => {
    log.started.push(o);
    const token = randomBytes(16).toString('hex');
    const ledger: LlmCallRecord[] = [];
    let usedUp = false;
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
            usedUp = true;
            log.refused++;
            res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"permits used up"}}');
            return;
          }
          const body = Buffer.concat(chunks).toString('utf8');
          log.requests.push(body);
          const started = Date.now();
          const parsed = JSON.parse(body) as Record<string, unknown>;
          const up = await fetch(`${o.upstream.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${o.upstream.apiKey ?? 'x'}` },
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
            ...o.record,
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
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      token,
      ledger: () => [...ledger],
      permitsUsedUp: () => usedUp,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  };
}
