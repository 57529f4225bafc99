/**
 * A private CA, a server certificate for a name that is not the address (so clients must use the
 * server name override, as with a load balancer or Temporal Cloud's per-namespace endpoints) and
 * a client certificate, made with the `openssl` CLI for the mTLS tests.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ServerTls } from './temporal-server';

const run = promisify(execFile);

/** The certificate set; `otherClient*` is signed by a different CA (the server must refuse it). */
export interface TestCerts extends ServerTls {
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
}

async function ca(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    key,
    '-out',
    cert,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

async function leaf(
  dir: string,
  name: string,
  signer: { cert: string; key: string },
  ext: string,
): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  await run('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    key,
    '-out',
    csr,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    signer.cert,
    '-CAkey',
    signer.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    cert,
    '-extfile',
    extFile,
  ]);
  return { cert, key };
}

/** Writes the certificates into `dir`. */
export async function makeTestCerts(dir: string, serverName = 'temporal.maestro.test'): Promise<TestCerts> {
  const root = await ca(dir, 'maestro-test-ca');
  const other = await ca(dir, 'other-ca');
  const server = await leaf(
    dir,
    'server',
    root,
    `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n`,
  );
  const client = await leaf(dir, 'client', root, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  const stranger = await leaf(dir, 'stranger', other, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  return {
    caCert: root.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    serverName,
    otherCaCert: other.cert,
    otherClientCert: stranger.cert,
    otherClientKey: stranger.key,
  };
}
