/**
 * The gateway attacked as a hostile CLI inside the sandbox would, over real HTTP and its Unix
 * socket against the simulated LLM (more of test/unit/gateway-hostile.test.ts): a thousand
 * requests at once, a 100 MB body, forged run/ticket ids and permits, requests after the attempt
 * ended, and streamed answers the client never reads. Each is bounded, billed right (the ledger
 * equals what the provider answered), and leaves the gateway (the worker's process) serving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway';

let sim: SimLlm;
let dir: string;
const open: Gateway[] = [];
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'maestro-gw-load-'));
});
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
  sim.clearFaults();
  sim.clearRequests();
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gateway(o: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const g = await startGateway({
    llm: { baseUrl: sim.baseUrl, apiKey: 'sim', timeoutMs: 10_000 },
    model: 'maestro-sim',
    meta: { kind: 'work', role: 'coder', ticketId: 'T9', attempt: 1 },
    wallMs: 60_000,
    ...o,
  });
  open.push(g);
  return g;
}

const chatBody = (text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'x', messages: [{ role: 'user', content: text }], ...extra });

/** One POST over a fresh connection (TCP or the Unix socket): its status, or the error's code. */
function request(
  g: Gateway,
  path: string,
  body: string,
  headers: Record<string, string> = {},
  via: 'tcp' | 'socket' = 'tcp',
): Promise<number | string> {
  const url = g.url ? new URL(g.url) : undefined;
  return new Promise((resolve) => {
    const req = http.request(
      {
        ...(via === 'socket' ? { socketPath: g.socketPath } : { host: url!.hostname, port: url!.port }),
        path,
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${g.token}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    req.end(body);
  });
}

const rss = () => process.memoryUsage().rss;

test('1,000 requests at once: every one is answered or dropped within seconds, none passes the permits, the gateway still serves', async () => {
  const g = await gateway({ permits: 5 });
  const t0 = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => request(g, '/v1/chat/completions', chatBody(`c${i}`))),
  );
  expect(Date.now() - t0).toBeLessThan(30_000);
  const answered = sim.requests().filter((r) => r.status === 200).length;
  expect(answered).toBeLessThanOrEqual(5);
  expect(outcomes.filter((s) => s === 200)).toHaveLength(answered);
  // The rest: refused (400 permits, 429 busy) or dropped past the connection bound; nothing else.
  for (const s of outcomes) expect([200, 400, 429, 503, 'ECONNRESET', 'EPIPE', 'ECONNREFUSED']).toContain(s);
  const bill = g.ledger();
  expect(bill.calls).toHaveLength(answered);
  expect(bill.permitsUsed).toBe(answered);
  // Still serving: the models list needs no permit.
  const models = await fetch(`${g.url}/v1/models`, { headers: { authorization: `Bearer ${g.token}` } });
  expect(models.status).toBe(200);
}, 60_000);

test('a 100 MB body is refused with 413 before most of it is read, declared or chunked; memory stays bounded', async () => {
  const g = await gateway();
  const before = rss();
  // Declared: refused from its headers.
  const declared = await new Promise<number | string>((resolve) => {
    const url = new URL(g.url!);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/chat/completions',
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${g.token}`, 'content-length': String(100 * 1024 * 1024) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    req.write('{"messages":');
  });
  expect([413, 'EPIPE', 'ECONNRESET']).toContain(declared); // as below: the close may come first
  // Chunked: 100 chunks of 1 MiB, written as fast as the gateway takes them.
  const t0 = Date.now();
  const { status, sent } = await new Promise<{ status: number | string; sent: number }>((resolve) => {
    const url = new URL(g.url!);
    let sent = 0;
    let status: number | string | undefined;
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/responses',
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${g.token}` },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => resolve({ status: status!, sent }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: status ?? e.code ?? 'error', sent }));
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const pump = () => {
      while (sent < 100 && status === undefined) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (status === undefined) req.end();
    };
    pump();
  });
  // The gateway answers 413 and closes the connection; a client still writing may see the close
  // (EPIPE/ECONNRESET) before it reads the answer. Either way it refused, long before 100 MiB.
  expect([413, 'EPIPE', 'ECONNRESET']).toContain(status);
  expect(Date.now() - t0).toBeLessThan(15_000);
  // The gateway read at most its cap (16 MiB) and some buffers, not the 100 MiB.
  expect(sent).toBeLessThan(100);
  expect(rss() - before).toBeLessThan(96 * 1024 * 1024);
  expect(sim.requests()).toHaveLength(0);
  expect(g.ledger().calls).toHaveLength(0);
}, 60_000);

test('forged run id, ticket id, role and permits in headers or body change nothing: the call is booked as the attempt’s, within its permits', async () => {
  const g = await gateway({ permits: 1 });
  const forgedHeaders = {
    'x-maestro-run-id': 'other-run',
    'x-maestro-ticket-id': 'T666',
    'x-maestro-role': 'boss',
    'x-maestro-permits': '1000',
    'x-maestro-attempt': '7',
  };
  const forged = chatBody('forged', {
    metadata: { runId: 'other-run', ticketId: 'T666', role: 'boss', permits: 1000 },
    user: 'T666',
    meta: { kind: 'plan', ticketId: 'T666' },
    permits: 1000,
  });
  expect(await request(g, '/v1/chat/completions', forged, forgedHeaders)).toBe(200);
  expect(await request(g, '/v1/chat/completions', forged, forgedHeaders)).toBe(400);
  const bill = g.ledger();
  expect(bill.calls).toHaveLength(1);
  expect(bill.calls[0]).toMatchObject({ kind: 'work', role: 'coder', ticketId: 'T9', attempt: 1 });
  expect(bill).toMatchObject({ permits: 1, permitsUsed: 1, stopped: { reason: 'permits' } });
  expect(sim.requests()).toHaveLength(1);
});

test('after the attempt ended (gateway closed) a request on TCP or the socket gets nowhere and nothing is booked', async () => {
  const socketPath = join(dir, 'ended.sock');
  const g = await gateway({ socketPath });
  expect(await request(g, '/v1/chat/completions', chatBody('during'), {}, 'socket')).toBe(200);
  await g.close();
  const tcp = await request(g, '/v1/chat/completions', chatBody('after'));
  const sock = await request(g, '/v1/chat/completions', chatBody('after'), {}, 'socket');
  expect(tcp).toBe('ECONNREFUSED');
  expect(['ENOENT', 'ECONNREFUSED']).toContain(sock);
  expect(g.ledger().calls).toHaveLength(1);
  expect(sim.requests()).toHaveLength(1);
});

test('streamed answers the client never reads hold no call slot, are billed once each, and close() ends them at once', async () => {
  const g = await gateway({ limits: { maxConcurrent: 2, maxToolCalls: 128 } });
  // A big answer each (the fault serves one call): 200 tool calls of 40 KB, 128 kept, about 5 MB streamed.
  const big = () =>
    sim.injectFault({
      kind: 'tool-calls',
      toolCalls: Array.from({ length: 200 }, (_, i) => ({
        id: `c${i}`,
        name: 'Write',
        arguments: JSON.stringify({ n: i, content: 'y'.repeat(40_000) }),
      })),
    });
  const tools = [{ type: 'function', function: { name: 'Write', parameters: { type: 'object' } } }];
  const body = chatBody('big', { stream: true, tools });
  const url = new URL(g.url!);
  const stuck: net.Socket[] = [];
  // One after another, three clients ask for a streamed answer and never read it: with two slots,
  // the third is served only if the unread answers gave theirs back.
  for (let i = 1; i <= 3; i++) {
    big();
    const s = net.connect(Number(url.port), url.hostname);
    s.on('error', () => undefined);
    s.pause(); // never reads
    s.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${g.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    stuck.push(s);
    const deadline = Date.now() + 15_000;
    while (g.ledger().calls.length < i && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(g.ledger().calls).toHaveLength(i);
    expect(g.ledger().calls[i - 1]?.error).toBeUndefined();
  }
  sim.clearFaults();
  // A fourth call is served while they sit in their buffers.
  expect(await request(g, '/v1/chat/completions', chatBody('next'))).toBe(200);
  const t0 = Date.now();
  await g.close();
  expect(Date.now() - t0).toBeLessThan(3_000);
  for (const s of stuck) s.destroy();
  expect(g.ledger().calls).toHaveLength(4);
  expect(g.ledger().requests.refused).toBe(0);
  expect(sim.requests().filter((r) => r.status === 200)).toHaveLength(4);
}, 60_000);
