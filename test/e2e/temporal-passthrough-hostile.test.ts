/**
 * `maestro temporal …` starts the embedded server only when the Temporal CLI will talk to it: a
 * command that names its own server (`--address`) must not start one here, which it would
 * then stop again without the command ever using it. A fake `temporal` (TEMPORAL_CLI_PATH) records
 * every call, so the test sees whether Maestro tried to start a dev server.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { cleanEnv, runCli } from '../helpers/cli';

function fakeTemporal(dir: string): { bin: string; calls: () => string[] } {
  const bin = path.join(dir, 'temporal');
  const log = path.join(dir, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexit 0\n`);
  chmodSync(bin, 0o755);
  return { bin, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('maestro temporal with a server of its own', () => {
  it.each([
    [['--address', '127.0.0.1:1', 'workflow', 'list']],
    [['workflow', 'list', '--address', '127.0.0.1:1']],
    [['workflow', 'list', '--address=127.0.0.1:1']],
  ])(
    '%j runs the Temporal CLI as given and starts no embedded server',
    async (args) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-temporal-hostile-'));
      const fake = fakeTemporal(dir);
      const env = cleanEnv({
        MAESTRO_HOME: path.join(dir, 'home'),
        MAESTRO_TEMPORAL_PORT: String(await freePort('127.0.0.1')),
        TEMPORAL_CLI_PATH: fake.bin,
      });
      const res = await runCli(['temporal', ...args], env, 60_000);
      expect(res.stderr).not.toContain('Starting the embedded Temporal dev server');
      expect(fake.calls()).toEqual([args.join(' ')]);
      expect(res.code).toBe(0);
    },
    90_000,
  );
});
