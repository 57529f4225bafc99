/**
 * `startCodecServer` over real HTTP: /encode and /decode round-trip the Temporal JSON payload
 * form, CORS answers the UI's origin (and only it), the bearer token is enforced, and bad bodies
 * or undecryptable payloads get a 400 with a message instead of a crash.
 */
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../../src/codec/codec-server';

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
  expect(((await noAuth.json()) as { error: string }).error).toContain('bearer token');
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
