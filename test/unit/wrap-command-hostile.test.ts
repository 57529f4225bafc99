/**
 * A hostile gate id (from a forged run's status: quotes, newlines, ESC, `$(...)`, 100,000
 * characters) in the approve command `maestro watch` wraps: pasted into a real bash, the wrapped
 * lines must give `maestro` exactly the words of the unwrapped command, the gate id intact, and
 * never run anything else.
 */
import { execFileSync } from 'node:child_process';
import { approveHints } from '../../src/client/watch/approve-hints';
import { wrapCommand } from '../../src/client/watch/wrap-command';

/** The words bash passes to `maestro` for `lines` pasted as they are. */
function bashWords(lines: string[]): string[] {
  const script = lines.join('\n').replace(/^(maestro|temporal) /, "printf '%s\\0' ");
  const out = execFileSync('bash', ['-c', script], { maxBuffer: 64 * 1024 * 1024 }).toString();
  return out.split('\0').slice(0, -1);
}

describe('a wrapped approve command with a hostile gate id, pasted into bash', () => {
  it.each([
    ["it's"],
    ['a"b'],
    ['line1\nline2'],
    ['\u001b]0;pwned\u0007'],
    ['$(touch /tmp/maestro-wrap-pwned)'],
    ['`id`; rm -rf /tmp/nothing'],
    ['a \\\nb'],
    ['x '.repeat(50_000)],
  ])('gate id #%#', (gate) => {
    const cmd = approveHints('run-1', { kind: 'plan', id: gate }).maestro;
    for (const width of [20, 40, 80]) {
      const lines = wrapCommand('', cmd, width);
      expect(bashWords(lines)).toEqual(['approve', 'run-1', '--gate', gate]);
    }
    const signal = approveHints('run-1', { kind: 'plan', id: gate }).temporal;
    expect(bashWords(wrapCommand('', signal, 40))).toEqual([
      'workflow',
      'signal',
      '--workflow-id',
      'run-1',
      '--name',
      'approve',
      '--input',
      JSON.stringify({ gate, by: '<you>' }),
    ]);
  });
});
