/**
 * Side-by-side setups (issue 22): MAESTRO_TEMPORAL_PORT alone moves both the server a script
 * connects to and the Web UI's port, as it moves `maestro dev`'s server.
 */
import net from 'node:net';
import { connectMaestro } from '../../src/client/connect';
import { TemporalUnreachableError } from '../../src/client/errors';
import { defaultUiPort, loadConfig } from '../../src/config';

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('connectMaestro() reads MAESTRO_TEMPORAL_PORT as the CLI does, not 7233', async () => {
  const port = await freePort();
  const err = await connectMaestro({ env: { MAESTRO_TEMPORAL_PORT: String(port) }, cwd: __dirname }).then(
    (c) => {
      void c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TemporalUnreachableError);
  expect((err as TemporalUnreachableError).address).toBe(`localhost:${port}`);
}, 60_000);

test('the Web UI port follows the gRPC port unless MAESTRO_UI_PORT is set', () => {
  expect(loadConfig({}, __dirname).uiPort).toBe(8233);
  expect(loadConfig({ MAESTRO_TEMPORAL_PORT: '7391' }, __dirname).uiPort).toBe(8391);
  expect(loadConfig({ MAESTRO_TEMPORAL_PORT: '7391', MAESTRO_UI_PORT: '9000' }, __dirname).uiPort).toBe(9000);
  expect(defaultUiPort({ MAESTRO_TEMPORAL_PORT: '65000' })).toBe(8233);
});
