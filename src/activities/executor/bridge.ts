/**
 * How a CLI inside the sandbox reaches the gateway, its only way out. The sandbox has a network
 * namespace of its own (loopback only), so the worker listens on a Unix socket inside the attempt's
 * folder (which the sandbox sees at /tmp/ws) and pipes each connection to the gateway; inside, a
 * small forwarder (FORWARDER_SOURCE, run by node as the sandbox's first process) listens on the
 * sandbox's loopback, starts the CLI with `{{PORT}}` replaced in its arguments and environment,
 * and pipes each connection to that socket. Nothing else leaves the sandbox.
 */
import { chmod } from 'node:fs/promises';
import net from 'node:net';

/** A listening bridge; `close()` ends it and every connection through it. */
export interface Bridge {
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` (made connectable by the sandbox's own uid) and pipes every connection to
 * the gateway's TCP address (for a gateway that cannot listen in the attempt folder itself).
 */
export async function startBridge(socketPath: string, target: { url: string }): Promise<Bridge> {
  const u = new URL(target.url);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inside) => {
    const out = net.connect(Number(u.port || 80), u.hostname === 'localhost' ? '127.0.0.1' : u.hostname);
    sockets.add(inside).add(out);
    const end = () => {
      inside.destroy();
      out.destroy();
      sockets.delete(inside);
      sockets.delete(out);
    };
    inside.on('error', end).on('close', end);
    out.on('error', end).on('close', end);
    inside.pipe(out).pipe(inside);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o777);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What `launch.json` beside the forwarder says (paths as the sandbox sees them). */
export interface ForwarderLaunch {
  /** The socket every connection is piped to (the bridge's, or the gateway's own). */
  socket: string;
  cwd: string;
  /** The CLI and its arguments; `{{PORT}}` is replaced by the loopback port (also in `env`). */
  argv: string[];
  env: Record<string, string>;
  /** Files the CLI's stdout (its event stream) and stderr are appended to. */
  events: string;
  stderr: string;
}

/**
 * The sandbox's first process (CommonJS, run by the system's node): reads `launch.json` beside it
 * ({ socket, cwd, argv, env, events, stderr }), listens on 127.0.0.1 (a free port), pipes each
 * connection to the bridge's socket, starts the CLI with stdin from /dev/null and its stdout
 * (the event stream) and stderr into files the worker reads, and exits with the CLI's status.
 * When the sandbox is killed, its PID namespace takes the CLI and every child with it. This is the
 * only forwarder (the gateway's tests run it too).
 */
export const FORWARDER_SOURCE = String.raw`'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const launch = JSON.parse(fs.readFileSync(path.join(__dirname, 'launch.json'), 'utf8'));
const server = net.createServer((inside) => {
  const out = net.connect(launch.socket);
  const end = () => { inside.destroy(); out.destroy(); };
  inside.on('error', end).on('close', end);
  out.on('error', end).on('close', end);
  inside.pipe(out).pipe(inside);
});
server.listen(0, '127.0.0.1', () => {
  const port = String(server.address().port);
  const fill = (s) => String(s).split('{{PORT}}').join(port);
  const env = {};
  for (const [k, v] of Object.entries(launch.env)) env[k] = fill(v);
  const stdout = fs.openSync(launch.events, 'a');
  const stderr = fs.openSync(launch.stderr, 'a');
  let child;
  try {
    child = spawn(fill(launch.argv[0]), launch.argv.slice(1).map(fill), {
      cwd: launch.cwd, env, stdio: ['ignore', stdout, stderr],
    });
  } catch (err) {
    fs.writeSync(stderr, 'maestro: could not start ' + launch.argv[0] + ': ' + err.message + '\n');
    process.exit(127);
  }
  child.on('error', (err) => {
    fs.writeSync(stderr, 'maestro: could not start ' + launch.argv[0] + ': ' + err.message + '\n');
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    fs.writeFileSync(path.join(__dirname, 'exit.json'), JSON.stringify({ code, signal }));
    process.exit(code === null ? 128 : code);
  });
});
`;
