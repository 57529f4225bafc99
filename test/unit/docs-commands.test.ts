/**
 * Every `maestro …` line in a bash/sh code block of README.md and docs/**\/*.md is a command the
 * CLI has, with flags it accepts and its required arguments, as commander itself parses them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { docCommands, maestroCalls, problemsOf, shellWords } from '../../src/dev/docs-reference/doc-commands';

const ROOT = path.join(__dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return ['.vitepress', 'public'].includes(name) ? [] : markdownFiles(full);
    return name.endsWith('.md') ? [full] : [];
  });
}

const files = [
  path.join(ROOT, 'README.md'),
  ...(existsSync(path.join(ROOT, 'docs')) ? markdownFiles(path.join(ROOT, 'docs')) : []),
];
const calls = files.flatMap((f) => docCommands(path.relative(ROOT, f), readFileSync(f, 'utf8')));

describe('maestro commands in the docs', () => {
  it('finds the commands of the README', () => {
    expect(calls.filter((c) => c.file === 'README.md').length).toBeGreaterThan(0);
  });

  it('every one is a command with options it accepts', () => {
    const bad = calls.flatMap((c) => problemsOf(c.args).map((p) => `${c.file}:${c.line}: ${c.text}\n    ${p}`));
    expect(bad).toEqual([]);
  });

  it('reads shell lines the way a shell splits them', () => {
    expect(shellWords(`A=1 maestro run "a goal" --repo . # note`)).toEqual([
      'A=1',
      'maestro',
      'run',
      'a goal',
      '--repo',
      '.',
    ]);
    expect(maestroCalls(shellWords('maestro result r1 --patch | git am && maestro list --json'))).toEqual([
      ['result', 'r1', '--patch'],
      ['list', '--json'],
    ]);
    expect(maestroCalls(shellWords('npm run maestro -- status r1'))).toEqual([['status', 'r1']]);
    const md = '```bash\n$ maestro run "x" \\\n  --yes\n```\n```json\nmaestro nope\n```\n';
    expect(docCommands('x.md', md).map((c) => c.args)).toEqual([['run', 'x', '--yes']]);
  });

  it('copes with hostile lines: unterminated quotes, maestro as a word, a huge line', () => {
    expect(shellWords('maestro run "unterminated')).toEqual(['maestro', 'run', 'unterminated']);
    expect(maestroCalls(shellWords('echo maestro run x; git commit -m "maestro nope"'))).toEqual([]);
    const huge = `maestro list ${'--json '.repeat(100_000)}`;
    const started = Date.now();
    expect(problemsOf(maestroCalls(shellWords(huge))[0]!)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses an unknown command, an unknown flag, a flag without its value and a missing argument', () => {
    expect(problemsOf(['nope'])).toEqual(['no command "maestro nope"']);
    expect(problemsOf(['list', '--phase', 'executing', '--colour'])).toEqual([
      'unknown option --colour of maestro list',
    ]);
    expect(problemsOf(['run', 'x', '--repo'])[0]).toMatch(/--repo <path>' argument missing/);
    expect(problemsOf(['status'])).toEqual(['maestro status needs <runId>']);
    expect(problemsOf(['--nope', 'list'])[0]).toMatch(/unknown option --nope of maestro/);
    expect(problemsOf(['run', 'x', '--max-parallel', 'many'])[0]).toMatch(/--max-parallel/);
  });

  it('accepts global options, placeholders and what `maestro temporal` passes on', () => {
    expect(problemsOf(['--trust-config', 'run', 'x', '--yes'])).toEqual([]);
    expect(problemsOf(['raise-budget', '<runId>', '--usd', 'N'])).toEqual([]);
    expect(problemsOf(['temporal', 'workflow', 'list', '--query', 'x'])).toEqual([]);
    expect(problemsOf(['run', '--help'])).toEqual([]);
  });
});
