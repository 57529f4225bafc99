/** `maestro codec-server`: the Temporal remote codec endpoints for the Web UI and `temporal` CLI. */
import type { Command } from 'commander';
import { AesGcmCodec } from '../../codec/aes-gcm-codec';
import { startCodecServer } from '../../codec/codec-server';
import { ConfigError, loadConfig } from '../../config';
import { parseIntOption } from '../options';
import { logToStderr } from '../session';
import { untilInterrupted } from './serve';

/** Registers `maestro codec-server`. */
export function registerCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description(
      'serve /encode and /decode with the configured encryption keys, so the Web UI shows encrypted payloads (Ctrl-C stops)',
    )
    .option('--port <n>', 'port (default 8888; 0 picks a free one)', parseIntOption('--port', 0, 65535), 8888)
    .option('--host <ip>', 'address to bind', '127.0.0.1')
    .option(
      '--cors-origin <origins>',
      "comma-separated origins allowed to call it from a browser (the Web UI's)",
      'http://localhost:8233',
    )
    .option(
      '--auth-token <token>',
      'require the token: Authorization: Bearer <token>, or the endpoint URL http://host:port/<token> (for the Web UI); or set MAESTRO_CODEC_AUTH_TOKEN',
    )
    .option(
      '--allowed-hosts <names>',
      'comma-separated host names it answers to besides localhost, 127.0.0.1, ::1 and --host (e.g. behind a proxy); other Host headers are refused',
    )
    .action(
      async (flags: { port: number; host: string; corsOrigin: string; authToken?: string; allowedHosts?: string }) => {
        const config = loadConfig();
        if (!config.encryption) {
          throw new ConfigError(
            'maestro codec-server needs the encryption keys: set MAESTRO_ENCRYPTION_KEYS (id=base64key,...) or MAESTRO_ENCRYPTION_KEY_FILE.',
          );
        }
        const authToken = flags.authToken ?? (process.env.MAESTRO_CODEC_AUTH_TOKEN?.trim() || undefined);
        const server = await startCodecServer({
          codec: new AesGcmCodec(config.encryption),
          port: flags.port,
          host: flags.host,
          corsOrigins: flags.corsOrigin
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          ...(authToken ? { authToken } : {}),
          allowedHosts: (flags.allowedHosts ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        });
        logToStderr(
          `Codec server listening: ${server.url} (keys: ${Object.keys(config.encryption.keys).join(', ')}; CORS: ${flags.corsOrigin}${authToken ? '; token required' : ''}).`,
        );
        logToStderr(
          `Web UI: set its codec endpoint to ${authToken ? `${server.url}/<token>` : server.url}; CLI: temporal workflow show --codec-endpoint ${server.url}${authToken ? ' --codec-auth "Bearer <token>"' : ''} ...`,
        );
        await untilInterrupted();
        await server.close();
      },
    );
}
