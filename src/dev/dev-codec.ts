/**
 * The codec server `maestro dev` starts beside its embedded Temporal server when payload
 * encryption is configured, with the Web UI pointed at it (`--ui-codec-endpoint`), so the local
 * UI shows decrypted goals, plans and reviews without a second command or a UI setting.
 */
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../codec/codec-server';
import { ConfigError, type MaestroConfig } from '../config';

/** Starts it on 127.0.0.1:`port` (0: a free port) for the UI's origins; undefined without encryption keys. */
export async function startDevCodecServer(config: MaestroConfig, port: number): Promise<CodecServer | undefined> {
  if (!config.encryption) return undefined;
  const ui = config.uiPort;
  try {
    return await startCodecServer({
      codec: new AesGcmCodec(config.encryption),
      port,
      host: '127.0.0.1',
      corsOrigins: [`http://localhost:${ui}`, `http://127.0.0.1:${ui}`],
    });
  } catch (err) {
    throw new ConfigError(
      `maestro dev cannot start its codec server on 127.0.0.1:${port} (${(err as Error).message}): pick another port with --codec-port (0 for any free one), or --no-codec-server.`,
    );
  }
}
