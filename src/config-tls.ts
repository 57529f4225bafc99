/**
 * mTLS settings for self-hosted clusters and Temporal Cloud: client certificate and key, a CA for
 * private server certificates, and a server name override. Files are read and checked at start-up
 * so a wrong path or a swapped cert/key fails with the variable's name, not with a TLS handshake
 * error mid-run.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The TLS material the connections use (contents, not paths). */
export interface TlsSettings {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

/** The environment variables this module reads. */
export interface TlsEnv {
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
}

function readPem(variable: string, file: string, marker: RegExp, what: string, problems: string[]): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    problems.push(
      `  ${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
    return undefined;
  }
  if (!marker.test(data.toString('utf8'))) {
    problems.push(`  ${variable}: ${file} is not a PEM ${what} (expected a "-----BEGIN ${what.toUpperCase()}" block)`);
    return undefined;
  }
  return data;
}

function certMatchesKey(crt: Buffer, key: Buffer): boolean {
  try {
    return new X509Certificate(crt).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

/**
 * Reads the TLS files named in the environment; undefined when none is set. Problems are appended
 * to `problems` as lines naming the variable.
 */
export function tlsSettingsFromEnv(env: TlsEnv, problems: string[]): TlsSettings | undefined {
  const { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca } = env;
  const serverName = env.TEMPORAL_TLS_SERVER_NAME;
  if (!cert && !key && !ca && !serverName) return undefined;
  if (Boolean(cert) !== Boolean(key)) {
    problems.push(
      cert
        ? '  TEMPORAL_TLS_KEY: required with TEMPORAL_TLS_CERT (the private key of the client certificate)'
        : '  TEMPORAL_TLS_CERT: required with TEMPORAL_TLS_KEY (the client certificate of that key)',
    );
  }
  const settings: TlsSettings = {};
  if (cert && key) {
    const crt = readPem('TEMPORAL_TLS_CERT', cert, /-----BEGIN CERTIFICATE-----/, 'certificate', problems);
    const k = readPem('TEMPORAL_TLS_KEY', key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key', problems);
    if (crt && k) {
      if (certMatchesKey(crt, k)) settings.clientCertPair = { crt, key: k };
      else problems.push(`  TEMPORAL_TLS_KEY: ${key} is not the private key of the certificate in ${cert}`);
    }
  }
  if (ca) {
    const caPem = readPem('TEMPORAL_TLS_CA', ca, /-----BEGIN CERTIFICATE-----/, 'certificate', problems);
    if (caPem) settings.serverRootCACertificate = caPem;
  }
  if (serverName) {
    if (!/^[A-Za-z0-9.-]+$/.test(serverName)) {
      problems.push(`  TEMPORAL_TLS_SERVER_NAME: "${serverName}" must be a host name, e.g. temporal.example.com`);
    } else settings.serverNameOverride = serverName;
  }
  return settings;
}
