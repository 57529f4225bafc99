/** Jest global teardown: stops the dev server started by `global-setup.ts`. */
import { GLOBAL_DEV_SERVER_KEY } from './global-setup';
import type { GlobalWithDevServer } from './global-setup';

/** Stops the shared dev server (resolves once its process has exited). */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as GlobalWithDevServer;
  const server = g[GLOBAL_DEV_SERVER_KEY];
  delete g[GLOBAL_DEV_SERVER_KEY];
  if (!server) return; // tests ran against an external server
  // So that a re-run in watch mode starts a fresh server instead of using this stopped one.
  if (process.env.MAESTRO_TEST_TEMPORAL_ADDRESS === server.address) delete process.env.MAESTRO_TEST_TEMPORAL_ADDRESS;
  await server.stop();
}
