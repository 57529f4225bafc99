/**
 * The gateway's way into a sandbox with no network. A CLI in a network namespace with only
 * loopback cannot reach the worker's 127.0.0.1; the executor bind-mounts the gateway's Unix
 * socket into the sandbox and starts this forwarder there, which listens on the sandbox's own
 * loopback and pipes every connection to the socket (bytes only: the gateway still checks the
 * key). Runs as `node forwarder.js <socket> [port] [host]`, with no dependency but node:net, and
 * prints one JSON line `{"port": N}` once it listens (port 0: any free port). It lives as long as
 * the sandbox: the sandbox's PID namespace ends it with the CLI.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A running forwarder. */
export interface Forwarder {
  port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` and pipes every connection to the Unix socket `socketPath`. */
export function startForwarder(opts: { socketPath: string; port?: number; host?: string }): Promise<Forwarder> {
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(opts.socketPath);
    open.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            for (const s of open) s.destroy();
          }),
      });
    });
  });
}

if (require.main === module) {
  const [socketPath, port, host] = process.argv.slice(2);
  if (!socketPath) {
    process.stderr.write('usage: node forwarder.js <gateway socket> [port] [host]\n');
    process.exit(2);
  }
  startForwarder({ socketPath, port: Number(port ?? 0), host: host ?? '127.0.0.1' }).then(
    (f) => process.stdout.write(`${JSON.stringify({ port: f.port })}\n`),
    (err: unknown) => {
      process.stderr.write(`forwarder: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
