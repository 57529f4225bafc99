/**
 * Why a connection to Temporal fails when TLS is the reason, in words that name the setting to
 * fix. The SDK's own error for every TLS mistake is a generic "failed to connect before the
 * deadline" after its connect timeout; a direct TLS handshake (node:tls, the stack the client uses)
 * tells within milliseconds whether the server's certificate is untrusted or for another name,
 * whether the server refuses or requires a client certificate, or whether the server speaks no
 * TLS at all (and, after a failed plain-text connect, whether it requires TLS).
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsSettings } from '../config-tls';
import { terminalLine } from '../shared/model-text';

/** HTTP/2 connection preface and an empty SETTINGS frame: any gRPC server answers with its SETTINGS. */
const H2_HELLO = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/** What the client side of the connection uses (the `temporal` part of MaestroConfig). */
export interface TlsClientSide {
  tls: boolean;
  tlsSettings?: TlsSettings;
  apiKey?: string;
}

type ProbeResult =
  | { kind: 'ok' }
  | { kind: 'unreachable' }
  | { kind: 'failed'; stage: 'handshake' | 'after'; code: string; message: string; cert?: tls.PeerCertificate };

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

/** One TLS handshake plus an HTTP/2 hello, so a refusal the server sends after the handshake (TLS 1.3 client certificates) is seen too. */
function tlsProbe(address: string, s: TlsSettings, verify: boolean, timeoutMs: number): Promise<ProbeResult> {
  const { host, port } = splitAddress(address);
  const servername = s.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    let tcp = false;
    let secure = false;
    const socket = tls.connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ...(s.serverRootCACertificate ? { ca: s.serverRootCACertificate } : {}),
      ...(s.clientCertPair ? { cert: s.clientCertPair.crt, key: s.clientCertPair.key } : {}),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: verify,
      ...(servername && s.serverNameOverride
        ? { checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) }
        : {}),
    });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(secure ? { kind: 'ok' } : { kind: 'unreachable' }), timeoutMs);
    socket.once('connect', () => (tcp = true));
    socket.once('secureConnect', () => {
      secure = true;
      socket.write(H2_HELLO);
    });
    socket.once('data', () => done({ kind: 'ok' }));
    socket.once('error', (err: NodeJS.ErrnoException & { cert?: tls.PeerCertificate }) => {
      if (!tcp && !secure) return done({ kind: 'unreachable' });
      done({
        kind: 'failed',
        stage: secure ? 'after' : 'handshake',
        code: err.code ?? '',
        message: err.message,
        ...(err.cert ? { cert: err.cert } : {}),
      });
    });
    socket.once('close', () =>
      done(
        secure
          ? { kind: 'failed', stage: 'after', code: 'CLOSED', message: 'the server closed the connection' }
          : { kind: 'failed', stage: 'handshake', code: 'ECONNRESET', message: 'the server closed the connection' },
      ),
    );
  });
}

/** Whether a plain-text HTTP/2 (gRPC) server answers at `address`. */
function speaksPlainHttp2(address: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let got = Buffer.alloc(0);
    const done = (v: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write(H2_HELLO));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 9) done(got[3] === 0x04); // a SETTINGS frame header
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/**
 * Certificate text comes from the peer: escape sequences, bidi and zero-width characters are shown
 * escaped, line breaks as spaces (terminalLine), and a long name is cut, so a hostile server
 * cannot write to the terminal or disguise a name.
 */
function peerText(text: string, max = 200): string {
  const safe = terminalLine(text);
  return safe.length > max ? `${safe.slice(0, max)}... (${safe.length} characters)` : safe;
}

function describeCert(cert: tls.PeerCertificate | undefined): string {
  if (!cert) return 'its certificate';
  const names = cert.subjectaltname
    ? ` for ${peerText(cert.subjectaltname)}`
    : cert.subject?.CN
      ? ` for CN=${peerText(String(cert.subject.CN))}`
      : '';
  const issuer = cert.issuer?.CN ? `, issued by CN=${peerText(String(cert.issuer.CN))}` : '';
  return `its certificate${names}${issuer}`;
}

function subjectOf(pem: Buffer | undefined): string {
  try {
    return pem ? peerText(new X509Certificate(pem).subject.replace(/\n/g, ', ')) : '';
  } catch {
    return '';
  }
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/** The TLS problem of a TLS connection to `address`, in words; undefined when TLS is fine or the server is unreachable. */
export async function diagnoseTls(address: string, side: TlsClientSide, timeoutMs = 5000): Promise<string | undefined> {
  const s = side.tlsSettings ?? {};
  const r = await tlsProbe(address, s, true, timeoutMs);
  if (r.kind !== 'failed') return undefined;
  const name = s.serverNameOverride ?? splitAddress(address).host;
  if (r.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the server's certificate is not valid for the name "${name}" (${describeCert(r.cert)}). Set TEMPORAL_TLS_SERVER_NAME to a name the certificate names${s.serverNameOverride ? ` (it is "${s.serverNameOverride}" now)` : ''}.`;
  if (UNTRUSTED.has(r.code)) {
    const peer = await peerCertificate(address, s, timeoutMs);
    return s.serverRootCACertificate
      ? `the server's certificate is not signed by the CA in TEMPORAL_TLS_CA (${subjectOf(s.serverRootCACertificate)}): the server presented ${describeCert(peer)}. Set TEMPORAL_TLS_CA to the CA that signed the server's certificate.`
      : `the server's certificate is not signed by a CA this client trusts (the server presented ${describeCert(peer)}). Set TEMPORAL_TLS_CA to the PEM file of the CA that signed it.`;
  }
  if (r.code === 'CERT_HAS_EXPIRED' || r.code === 'CERT_NOT_YET_VALID')
    return `the server's certificate is ${r.code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}: the server must present a current certificate.`;
  if (
    /ALERT_CERTIFICATE_REQUIRED/.test(r.code) ||
    (!s.clientCertPair && /ALERT_(BAD_CERTIFICATE|HANDSHAKE_FAILURE)/.test(r.code))
  )
    return 'the server requires a client certificate (mTLS) and this client sent none. Set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY to the client certificate and its private key.';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/.test(r.code))
    return `the server refused this client certificate (${subjectOf(s.clientCertPair?.crt)}, issued by ${issuerOf(s.clientCertPair?.crt)}): it is not signed by a CA the server trusts for clients. Set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY to a certificate from the server's client CA.`;
  if (/ALERT_CERTIFICATE_EXPIRED/.test(r.code))
    return 'the server refused this client certificate as expired. Renew the certificate in TEMPORAL_TLS_CERT.';
  if (r.stage === 'handshake' && (await speaksPlainHttp2(address, timeoutMs)))
    return `the server does not use TLS (it answers in plain text), but this client connects with TLS (${tlsReason(side)}). Remove the TLS settings, or turn TLS on at the server.`;
  // A reset or close without a TLS alert is the network's (a restarting server, a proxy): the SDK
  // retries those, so only a failure TLS itself reports is named here.
  if (r.stage === 'handshake' && /^ERR_(SSL|TLS)_/.test(r.code)) return `the TLS handshake failed (${r.code}).`;
  return undefined;
}

function issuerOf(pem: Buffer | undefined): string {
  try {
    return pem ? peerText(new X509Certificate(pem).issuer.replace(/\n/g, ', ')) : 'unknown';
  } catch {
    return 'unknown';
  }
}

function tlsReason(side: TlsClientSide): string {
  const s = side.tlsSettings;
  const set = [
    s?.clientCertPair ? 'TEMPORAL_TLS_CERT/KEY' : '',
    s?.serverRootCACertificate ? 'TEMPORAL_TLS_CA' : '',
    s?.serverNameOverride ? 'TEMPORAL_TLS_SERVER_NAME' : '',
    side.apiKey ? 'TEMPORAL_API_KEY' : '',
  ].filter(Boolean);
  return set.length > 0 ? `${set.join(', ')} set` : 'TEMPORAL_TLS=true';
}

async function peerCertificate(
  address: string,
  s: TlsSettings,
  timeoutMs: number,
): Promise<tls.PeerCertificate | undefined> {
  const { host, port } = splitAddress(address);
  const servername = s.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const done = (c: tls.PeerCertificate | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(c);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('secureConnect', () => done(socket.getPeerCertificate()));
    socket.once('error', () => done(undefined));
  });
}

/** After a plain-text connect failed: whether the server at `address` requires TLS (it completes or starts a TLS handshake). */
export async function diagnosePlaintext(address: string, timeoutMs = 5000): Promise<string | undefined> {
  const r = await tlsProbe(address, {}, false, timeoutMs);
  const tlsServer = r.kind === 'ok' || (r.kind === 'failed' && (r.stage === 'after' || /ALERT/.test(r.code)));
  return tlsServer
    ? 'the server requires TLS, but this client connects in plain text. Set TEMPORAL_TLS=true, with TEMPORAL_TLS_CA for a private CA and TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY when it requires client certificates.'
    : undefined;
}
