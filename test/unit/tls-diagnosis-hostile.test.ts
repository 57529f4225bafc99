/**
 * The TLS diagnosis (src/client/tls-diagnosis.ts) against hostile peers, with real node:tls and
 * node:net servers on loopback: a certificate whose names carry terminal escape sequences,
 * newlines or 100 KB of text, a server that resets the handshake, one that never answers, one
 * that sends garbage; and a healthy mTLS server, which must get no diagnosis and no delay.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { diagnosePlaintext, diagnoseTls } from '../../src/client/tls-diagnosis';
import { makeTestCerts, type TestCerts } from '../cluster/helpers/certs';

const run = promisify(execFile);
const H2_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
/** C0 and C1 control characters (ESC, BEL, CR, LF, CSI ...): none may reach a terminal from a peer. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

let dir: string;
let certs: TestCerts;
const servers: net.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-tls-hostile-'));
  certs = await makeTestCerts(dir);
});
afterAll(() => servers.forEach((s) => s.close()));

function listen(server: net.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as net.AddressInfo).port}`)),
  );
}

function h2Tls(options: tls.TlsOptions): Promise<string> {
  return listen(
    tls.createServer({ ALPNProtocols: ['h2'], ...options }, (sock) => {
      sock.on('data', () => sock.write(H2_SETTINGS));
      sock.on('error', () => undefined);
    }),
  );
}

/**
 * A self-signed certificate whose CN and SAN DNS name are `cn` and `san`: openssl drops control
 * characters from -subj, so the placeholders are replaced in the DER (the signature no longer
 * matches, which a client that does not verify, like the diagnosis's second look, never checks).
 */
async function hostileCert(cn: string, san: string): Promise<{ cert: Buffer; key: Buffer }> {
  const cnMark = 'C'.repeat(Buffer.byteLength(cn));
  const sanMark = 'S'.repeat(Buffer.byteLength(san));
  const key = path.join(dir, `h${Date.now()}.key`);
  const pem = path.join(dir, `h${Date.now()}.pem`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${cnMark}`, '-addext', `subjectAltName=DNS:${sanMark}`, '-keyout', key, '-out', pem,
  ]); // prettier-ignore
  let der = new X509Certificate(readFileSync(pem)).raw;
  const swaps: [string, string][] = [
    [cnMark, cn],
    [sanMark, san],
  ];
  for (const [mark, text] of swaps) {
    const at = der.indexOf(mark);
    expect(at).toBeGreaterThan(0);
    der = Buffer.concat([der.subarray(0, at), Buffer.from(text), der.subarray(at + Buffer.byteLength(mark))]);
  }
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  writeFileSync(pem, cert);
  return { cert: Buffer.from(cert), key: readFileSync(key) };
}

it('never echoes terminal escape sequences or newlines from the server certificate', async () => {
  const evil = '\u001b[2J\u001b]0;pwned\u0007\r\n\u202eX';
  const { cert, key } = await hostileCert(`${evil}cn`, `${evil}san`);
  const address = await h2Tls({ cert, key });
  const problem = await diagnoseTls(address, { tls: true }, 3000);
  expect(problem).toMatch(/not signed by a CA this client trusts/);
  expect(problem).toContain('CN=\\x1b[2J');
  expect(problem).not.toMatch(CONTROL);
  expect(problem).not.toContain('\u202e');
});

it('keeps the message short when the certificate names are 100 KB long', async () => {
  const long = 'a'.repeat(60_000) + '.example';
  const { cert, key } = await hostileCert('b'.repeat(50), long);
  const address = await h2Tls({ cert, key });
  const problem = await diagnoseTls(address, { tls: true }, 3000);
  expect(problem).toMatch(/not signed by a CA this client trusts/);
  expect(problem!.length).toBeLessThan(1000);
});

it('a healthy mTLS server: no diagnosis, within a fraction of a second', async () => {
  const address = await h2Tls({
    cert: readFileSync(certs.serverCert),
    key: readFileSync(certs.serverKey),
    ca: readFileSync(certs.caCert),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const started = Date.now();
  const problem = await diagnoseTls(address, {
    tls: true,
    tlsSettings: {
      serverNameOverride: certs.serverName,
      serverRootCACertificate: readFileSync(certs.caCert),
      clientCertPair: { crt: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) },
    },
  });
  expect(problem).toBeUndefined();
  expect(Date.now() - started).toBeLessThan(500);
});

it('a server that resets the connection mid-handshake is not called a TLS error (the SDK retries it)', async () => {
  const address = await listen(
    net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.once('data', () => sock.resetAndDestroy());
    }),
  );
  expect(await diagnoseTls(address, { tls: true }, 3000)).toBeUndefined();
});

it('a server that accepts and never answers: no diagnosis, within the timeout', async () => {
  const address = await listen(net.createServer((sock) => sock.on('error', () => undefined)));
  const started = Date.now();
  expect(await diagnoseTls(address, { tls: true }, 800)).toBeUndefined();
  expect(await diagnosePlaintext(address, 800)).toBeUndefined();
  expect(Date.now() - started).toBeLessThan(2500);
});

it('a server that sends garbage: its bytes are never echoed', async () => {
  const garbage = Buffer.from('\u001b[31mHELLO\r\n\u0000\u00ff'.repeat(2000), 'latin1');
  const address = await listen(
    net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.write(garbage);
    }),
  );
  const problem = await diagnoseTls(address, { tls: true }, 3000);
  expect(problem ?? '').not.toMatch(CONTROL);
  expect(problem ?? '').not.toMatch(/HELLO/);
  expect(await diagnosePlaintext(address, 3000)).toBeUndefined();
});
