/**
 * The README's "Scaling one role" setup (issue 22, item 10): with `"taskQueue": true` on the
 * coder, `maestro worker --roles coder` runs an activity-only worker by design, so the SDK's
 * "No workflows registered, not polling for workflow tasks" warning is noise, and it must not
 * print it; the worker still polls its role queue and says so.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { testAddress, uniqueQueue } from '../helpers/temporal';
import { spawnWorker } from '../helpers/worker-process';

let sim: SimLlm;
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
});
afterAll(async () => {
  await sim?.close();
});

it('`maestro worker --roles coder` prints no "No workflows registered" warning and polls the coder queue', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-role-worker-'));
  const configFile = path.join(dir, 'maestro.config.json');
  writeFileSync(configFile, JSON.stringify({ roles: [{ name: 'coder', taskQueue: true }] }));
  const queue = uniqueQueue('roles');
  const worker = await spawnWorker(
    {
      TEMPORAL_ADDRESS: testAddress(),
      MAESTRO_TASK_QUEUE: queue,
      MAESTRO_CONFIG: configFile,
      OPENAI_BASE_URL: sim.baseUrl,
      OPENAI_API_KEY: 'sim',
      MAESTRO_MODEL: 'maestro-sim',
      MAESTRO_HOME: path.join(dir, '.maestro'),
    },
    ['--roles', 'coder'],
  );
  try {
    // The SDK warns right after the worker starts; give it time to have done so.
    await new Promise((r) => setTimeout(r, 3000));
    expect(worker.output()).toContain(`${queue}-role-coder`);
    expect(worker.output()).not.toContain('No workflows registered');
    expect(worker.output()).not.toMatch(/\[WARN\]/);
  } finally {
    await worker.kill();
  }
}, 120_000);
