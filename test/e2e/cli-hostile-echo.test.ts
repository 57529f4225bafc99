/**
 * A hostile value given to a flag (a script passing on untrusted text) is echoed in the error
 * message: its control characters must be shown escaped, never sent to the terminal, where ESC
 * sequences recolour it, retitle the window or rewrite lines. Exit 2 as for any bad input.
 */
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
