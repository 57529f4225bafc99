/**
 * A hostile value given to a flag (a script passing on untrusted text) is echoed in the error
 * message: its control characters must be shown escaped, never sent to the terminal, where ESC
 * sequences recolour it, retitle the window or rewrite lines. Exit 2 as for any bad input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanEnv, runCli } from '../helpers/cli';

const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\u001b[31m1d';

describe('maestro echoes a hostile flag value escaped', () => {
  it.each([[['list', '--since', HOSTILE]], [['list', '--phase', HOSTILE]], [['list', '--limit', HOSTILE]]])(
    '%j: no control character reaches stderr, exit 2',
    async (args) => {
      const res = await runCli(args, cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }), 30_000);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('\\x1b');
      expect(res.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    },
    40_000,
  );
});

describe('a hostile maestro.config.json (a cloned repo) is quoted escaped', () => {
  it('an unknown key full of ESC bytes: no control character on stderr; with --json, one JSON document on stdout', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-config-'));
    const config = path.join(dir, 'maestro.config.json');
    writeFileSync(config, JSON.stringify({ [HOSTILE]: 1 }));
    const res = await runCli(
      ['status', 'r1', '--json'],
      cleanEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1', MAESTRO_CONFIG: config }),
      30_000,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Unrecognized key');
    expect(res.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const json = JSON.parse(res.stdout) as { error: string; exitCode: number };
    expect(json).toMatchObject({ exitCode: 2, error: expect.stringContaining(HOSTILE) });
  }, 40_000);
});
