/**
 * `startCodecServer` over real HTTP: /encode and /decode round-trip the Temporal JSON payload
 * form, CORS answers the UI's origin (and only it), the bearer token is enforced, and bad bodies
 * or undecryptable payloads get a 400 with a message instead of a crash.
 */
import { request } from 'node:http';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../../src/codec/codec-server';
import { loadConfig } from '../../src/config';
import { startDevCodecServer } from '../../src/dev/dev-codec';

const UI = 'http://localhost:8233';
const b64 = (s: string) => Buffer.from(s).toString('base64');
let server: CodecServer;

beforeAll(async () => {
  server = await startCodecServer({
    codec: new AesGcmCodec({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }),
    port: 0,
    corsOrigins: [UI],
    authToken: 'sesame',
  });
});
afterAll(() => server?.close());

const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sesame', origin: UI, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

it('encodes and decodes payloads in the JSON form the Web UI sends', async () => {
  const plain = { metadata: { encoding: b64('json/plain') }, data: b64('"Build a bakery site"') };
  const enc = await post('/encode', { payloads: [plain] });
  expect(enc.status).toBe(200);
  expect(enc.headers.get('access-control-allow-origin')).toBe(UI);
  const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(encoded.payloads[0]!.data, 'base64').toString('latin1')).not.toContain('bakery');

  const dec = await post('/decode', encoded, { 'x-namespace': 'default' });
  expect(dec.status).toBe(200);
  expect(await dec.json()).toEqual({ payloads: [plain] });
});

it('answers the CORS preflight for the UI origin only', async () => {
  const ok = await fetch(`${server.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-namespace',
    },
  });
  expect(ok.status).toBe(204);
  expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
  expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
  const other = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
});

it('requires the bearer token and explains bad requests', async () => {
  const noAuth = await post('/decode', { payloads: [] }, { authorization: '' });
  expect(noAuth.status).toBe(401);
  expect(((await noAuth.json()) as { error: string }).error).toContain('wrong token');
  const bad = await post('/decode', 'not json');
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toContain('{"payloads"');
  const foreign = await post('/decode', {
    payloads: [
      { metadata: { encoding: b64(ENCRYPTED_ENCODING), 'encryption-key-id': b64('k9') }, data: b64('x'.repeat(40)) },
    ],
  });
  expect(foreign.status).toBe(400);
  expect(((await foreign.json()) as { error: string }).error).toContain('key "k9", which is not configured here');
  expect((await post('/nothing', {})).status).toBe(404);
});

/** A POST with a chosen Host header (fetch cannot set one), answered with status and body. */
function rawPost(
  url: string,
  route: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname.replace(/\/$/, '')}${route}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('what the codec server refuses', () => {
  const plain = { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('"x"') }] };

  it('a foreign Host (DNS rebinding) or a foreign Origin is refused before anything is decoded', async () => {
    const auth = { authorization: 'Bearer sesame' };
    const body = JSON.stringify(plain);
    const foreignHost = await rawPost(server.url, '/encode', body, { ...auth, host: 'rebind.attacker.example:8888' });
    expect(foreignHost.status).toBe(403);
    expect(foreignHost.body).toContain('Host');
    // Look-alikes of loopback names: a bracketed literal followed by a domain, a trailing dot, a suffix.
    for (const host of ['[::1].rebind.attacker.example', '[::1]x:8888', 'localhost.', 'localhost.attacker.example']) {
      expect([host, (await rawPost(server.url, '/encode', body, { ...auth, host })).status]).toEqual([host, 403]);
    }
    const foreignOrigin = await rawPost(server.url, '/encode', body, { ...auth, origin: 'http://evil.example' });
    expect(foreignOrigin.status).toBe(403);
    expect(foreignOrigin.body).toContain('Origin');
    for (const host of [new URL(server.url).host, `localhost:${new URL(server.url).port}`]) {
      expect((await rawPost(server.url, '/encode', body, { ...auth, host })).status).toBe(200);
    }
  });

  it('too many payloads, too many metadata entries or too many decoded bytes: 413 with what the limit is', async () => {
    const many = await post('/decode', `{"payloads":[${Array(20_001).fill('{}').join(',')}]}`);
    expect(many.status).toBe(413);
    expect(((await many.json()) as { error: string }).error).toMatch(/at most [\d,]+ payloads/);
    const metadata = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, '']));
    const wide = await post('/decode', { payloads: [{ metadata, data: '' }] });
    expect(wide.status).toBe(413);
    const big = await post('/encode', { payloads: [{ data: Buffer.alloc(9 * 1024 * 1024).toString('base64') }] });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toMatch(/bytes/);
  });

  it('the token works in the path too (the Web UI cannot send a header); a wrong one of any length is refused', async () => {
    const viaPath = await fetch(`${server.url}/sesame/encode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI },
      body: JSON.stringify(plain),
    });
    expect(viaPath.status).toBe(200);
    for (const wrong of ['sesamf', 'x', 'sesame-and-more']) {
      const r = await fetch(`${server.url}/${wrong}/encode`, { method: 'POST', body: JSON.stringify(plain) });
      expect(r.status).toBe(401);
      expect((await post('/encode', plain, { authorization: `Bearer ${wrong}` })).status).toBe(401);
    }
  });
});

describe("maestro dev's codec server", () => {
  it('has a generated token: the Web UI gets an endpoint with it, requests without it are refused', async () => {
    const config = loadConfig({ MAESTRO_ENCRYPTION_KEYS: `k1=${Buffer.alloc(32, 1).toString('base64')}` });
    const dev = (await startDevCodecServer(config, 0))!;
    try {
      expect(dev.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32,}$/);
      const body = JSON.stringify({ payloads: [] });
      const open = await fetch(`${dev.url}/decode`, { method: 'POST', body });
      expect(open.status).toBe(401);
      const withToken = await fetch(`${dev.endpoint}/decode`, { method: 'POST', body });
      expect(withToken.status).toBe(200);
      const again = (await startDevCodecServer(config, 0))!;
      expect(again.endpoint).not.toBe(dev.endpoint);
      await again.close();
    } finally {
      await dev.close();
    }
  });
});

it('other shapes of the memory attack (millions of strings, numbers or nested arrays) are refused before parsing', async () => {
  for (const body of [
    `{"payloads":[${Array(2_000_000).fill('"a"').join(',')}]}`,
    `{"payloads":[${Array(3_000_000).fill('1').join(',')}]}`,
    `{"payloads":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`,
  ]) {
    const r = await post('/decode', body);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toMatch(/at most [\d,]+ payloads/);
  }
});
