/**
 * `maestro watch` wraps the commands it prints at the terminal's width between shell words only
 * (issue 22, item 11: the terminal's own wrap at 80 columns split `--workflow-id` in two).
 */
import fc from 'fast-check';
import { approveHints } from '../../src/client/watch/approve-hints';
import { DEFAULT_WIDTH, shellWords, terminalWidth, wrapCommand } from '../../src/client/watch/wrap-command';
import { shellQuote } from '../../src/shared/shell-quote';

/** The words of wrapped lines, read back as the shell would after the ` \` continuations. */
function unwrap(lines: string[], prefix: string): string[] {
  return shellWords(lines.map((l, i) => (i === 0 ? l.slice(prefix.length) : l).replace(/ \\$/, '')).join(' '));
}

const word = fc.oneof(
  fc.stringMatching(/^--?[a-z][a-z-]{0,30}$/),
  fc.string({ minLength: 1, maxLength: 120 }).map(shellQuote),
  fc.stringMatching(/^[\w./:@-]{1,60}$/),
);

describe('wrapCommand', () => {
  it('never splits a word, and no line exceeds the width unless it holds one word that alone does not fit', () => {
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom('', '  approve: ', '       or: '),
        (words, width, prefix) => {
          const command = words.join(' ');
          const lines = wrapCommand(prefix, command, width);
          expect(unwrap(lines, prefix)).toEqual(shellWords(command));
          lines.forEach((line, i) => {
            const body = (i === 0 ? line.slice(prefix.length) : line.trimStart()).replace(/ \\$/, '');
            if (line.length > width) expect(shellWords(body)).toHaveLength(1);
          });
          for (const l of lines.slice(0, -1)) expect(l.endsWith(' \\')).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps quoted words with spaces and escaped quotes whole', () => {
    expect(shellWords(`a 'b c' "d \\" e" f\\ g 'it'\\''s'`)).toEqual([
      'a',
      "'b c'",
      '"d \\" e"',
      'f\\ g',
      "'it'\\''s'",
    ]);
  });

  it('wraps the approve command of a long run id at 80 columns without splitting --workflow-id', () => {
    const hints = approveHints('maestro-20261207-084512-3f9a/T12', { kind: 'ticket', id: 'ticket:T3#1' }, 'prod-team');
    const lines = wrapCommand('       or: ', hints.temporal, 80);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines.some((l) => /--workflow-id\b/.test(l))).toBe(true);
    expect(unwrap(lines, '       or: ')).toEqual(shellWords(hints.temporal));
  });

  it('fits on one line when it can', () => {
    expect(wrapCommand('  approve: ', 'maestro approve r1 --gate plan', 80)).toEqual([
      '  approve: maestro approve r1 --gate plan',
    ]);
  });
});

describe('terminalWidth', () => {
  it("uses the terminal's columns on a TTY", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 }, {})).toBe(132);
    expect(terminalWidth({ isTTY: true, columns: 132 }, { COLUMNS: '60' })).toBe(132);
  });

  it('falls back to COLUMNS, then 80, when stdout is not a terminal', () => {
    expect(terminalWidth({ isTTY: false, columns: 132 }, { COLUMNS: '100' })).toBe(100);
    expect(terminalWidth({}, {})).toBe(DEFAULT_WIDTH);
    expect(DEFAULT_WIDTH).toBe(80);
  });

  it.each([['0'], ['-5'], ['abc'], ['1e3'], ['0x50'], [''], ['  '], ['12']])('ignores COLUMNS=%j (80)', (cols) => {
    expect(terminalWidth({}, { COLUMNS: cols })).toBe(80);
  });

  it('caps a huge COLUMNS or terminal width at 10000', () => {
    expect(terminalWidth({}, { COLUMNS: '999999999' })).toBe(10_000);
    expect(terminalWidth({ isTTY: true, columns: 1e9 }, {})).toBe(10_000);
    expect(terminalWidth({ isTTY: true, columns: 0 }, {})).toBe(80);
  });
});
