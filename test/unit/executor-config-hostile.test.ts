/**
 * The `executor` key of a role with strings a program cannot be started with (NUL) or that would
 * reach terminals and summaries as escape sequences: refused by the config schema, saying where.
 */
import { ExecutorConfig } from '../../src/shared/executor';

describe('executor config strings', () => {
  it.each([
    [{ agent: 'custom', command: 'my-agent\0--evil' }, 'command'],
    [{ agent: 'custom', command: 'my-agent', args: ['ok', 'x\0y'] }, 'args.1'],
    [{ agent: 'codex', model: 'gpt\0x' }, 'model'],
    [{ agent: 'codex', model: '\u001b[2Jgpt' }, 'model'],
    [{ agent: 'custom', command: 'my-agent\u202e' }, 'command'],
  ])('%j is refused at %s', (config, where) => {
    const r = ExecutorConfig.safeParse(config);
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(r.error.issues.map((i) => i.path.join('.'))).toContain(where);
      expect(r.error.issues[0]!.message).toMatch(/control|NUL/i);
    }
  });
  it('a multi-line argument and a sound command are kept', () => {
    expect(
      ExecutorConfig.safeParse({ agent: 'custom', command: '/opt/a b/agent', args: ['--x', 'line1\nline2'] }).success,
    ).toBe(true);
  });
});
