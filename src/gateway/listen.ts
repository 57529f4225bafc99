/**
 * How the gateway listens: node:http servers with the slow-client limits (header and body
 * timeouts checked every half second, not node's default 30 s; a bound on connections), on TCP
 * loopback and on a Unix socket a sandbox can have bind-mounted.
 */
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GatewayLimits } from './server';

/** A node:http server with the slow-client limits, tracking its sockets so close() ends them. */
export function limitedServer(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  limits: GatewayLimits,
): { server: Server; destroyAll: () => void } {
  const sockets = new Set<Socket>();
  // Node checks the header and request timeouts every `connectionsCheckingInterval` (30 s by default).
  const every = Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2)));
  const server = createServer({ connectionsCheckingInterval: every }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { message: `Maestro gateway error: ${(err as Error).message}`, type: 'server_error' },
          }),
        );
      } else res.destroy();
    });
  });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.maxConnections = limits.maxConnections;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    server,
    destroyAll: () => {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    },
  };
}

/** Listens on TCP (host, port) and resolves with the port. */
export function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Listens on a Unix socket any local user may connect to (the key guards it: a sandbox runs as another uid). */
export function listenSocket(server: Server, path: string): Promise<void> {
  const old = (() => {
    try {
      return lstatSync(path);
    } catch {
      return undefined;
    }
  })();
  if (old && !old.isSocket())
    return Promise.reject(new Error(`gateway socket path ${path} exists and is not a socket`));
  if (old) rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      chmodSync(path, 0o666);
      resolve();
    });
  });
}
