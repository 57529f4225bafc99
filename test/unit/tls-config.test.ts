/**
 * mTLS settings from the environment (TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME): real certificates
 * made with openssl; every mistake a person makes with them fails at start-up naming the variable.
 * The handshake against a TLS server is tested in test/cluster/ (the Go-built server with mTLS).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { makeTestCerts, type TestCerts } from '../cluster/helpers/certs';

let certs: TestCerts;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-tls-'));
  certs = await makeTestCerts(dir);
});

it('reads a valid client certificate, key, CA and server name and turns TLS on', () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: 'temporal.example.com:7233',
    TEMPORAL_TLS_CERT: certs.clientCert,
    TEMPORAL_TLS_KEY: certs.clientKey,
    TEMPORAL_TLS_CA: certs.caCert,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.maestro.test',
  });
  expect(config.temporal.tls).toBe(true);
  expect(config.temporal.tlsSettings?.clientCertPair?.crt.toString()).toContain('BEGIN CERTIFICATE');
  expect(config.temporal.tlsSettings?.serverRootCACertificate?.toString()).toContain('BEGIN CERTIFICATE');
  expect(config.temporal.tlsSettings?.serverNameOverride).toBe('temporal.maestro.test');
});

it('names the variable for each mistake', () => {
  const problems = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a configuration error');
  };
  expect(problems({ TEMPORAL_TLS_CERT: certs.clientCert })).toContain(
    'TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT',
  );
  expect(problems({ TEMPORAL_TLS_KEY: certs.clientKey })).toContain(
    'TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY',
  );
  expect(problems({ TEMPORAL_TLS_CERT: '/nope/client.pem', TEMPORAL_TLS_KEY: certs.clientKey })).toContain(
    'TEMPORAL_TLS_CERT: cannot read /nope/client.pem (ENOENT)',
  );
  const notPem = path.join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  expect(problems({ TEMPORAL_TLS_CA: notPem })).toContain(`TEMPORAL_TLS_CA: ${notPem} is not a PEM certificate`);
  expect(problems({ TEMPORAL_TLS_CERT: certs.clientKey, TEMPORAL_TLS_KEY: certs.clientCert })).toMatch(
    /TEMPORAL_TLS_CERT: .* is not a PEM certificate[\s\S]*TEMPORAL_TLS_KEY: .* is not a PEM private key/,
  );
  expect(problems({ TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.otherClientKey })).toContain(
    `TEMPORAL_TLS_KEY: ${certs.otherClientKey} is not the private key of the certificate in ${certs.clientCert}`,
  );
  expect(problems({ TEMPORAL_TLS_SERVER_NAME: 'not a host' })).toContain(
    'TEMPORAL_TLS_SERVER_NAME: "not a host" must be a host name',
  );
  expect(problems({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: certs.caCert })).toContain(
    'TEMPORAL_TLS: is "false" but TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME are set',
  );
});
