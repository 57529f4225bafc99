/**
 * The codec server `maestro dev` starts beside its embedded Temporal server when payload
 * encryption is configured, with the Web UI pointed at it (`--ui-codec-endpoint`), so the local
 * UI shows decrypted goals, plans and reviews without a second command or a UI setting. It gets a
 * fresh random token each start, carried in the endpoint's path (the UI cannot send a header):
 * other local programs and web pages cannot decrypt through it without reading that endpoint.
 */
import { randomBytes } from 'node:crypto';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../codec/codec-server';
import { ConfigError, type MaestroConfig } from '../config';

/** Starts it on 127.0.0.1:`port` (0: a free port) for the UI's origins, with a new token; undefined without encryption keys. */
export async function startDevCodecServer(config: MaestroConfig, port: number): Promise<CodecServer | undefined> {
  if (!config.encryption) return undefined;
  const ui = config.uiPort;
  try {
    return await startCodecServer({
      codec: new AesGcmCodec(config.encryption),
      port,
      host: '127.0.0.1',
      corsOrigins: [`http://localhost:${ui}`, `http://127.0.0.1:${ui}`],
      authToken: randomBytes(32).toString('base64url'),
    });
  } catch (err) {
    throw new ConfigError(
      `maestro dev cannot start its codec server on 127.0.0.1:${port} (${(err as Error).message}): pick another port with --codec-port (0 for any free one), or --no-codec-server.`,
    );
  }
}
