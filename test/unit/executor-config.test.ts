/**
 * The `executor` key of a role in maestro.config.json: a known CLI or a custom command reaches
 * the worker's roles; a run is given only the executor's name and bounds, never a command; a file
 * with a custom command is code and needs --trust-config; mistakes name the key and the fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, runRoles } from '../../src/config';

function load(config: unknown, trust: string | undefined = '1') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-config-'));
  writeFileSync(path.join(dir, 'maestro.config.json'), JSON.stringify(config));
  return loadConfig(trust === undefined ? {} : { MAESTRO_TRUST_CONFIG: trust }, dir);
}

function problem(config: unknown, trust?: string): string {
  try {
    load(config, trust);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('executor in maestro.config.json', () => {
  it('gives roles their CLI; the run carries the name and bounds, the command stays on the worker', () => {
    const c = load({
      roles: [
        { name: 'coder', executor: { agent: 'codex' } },
        { name: 'tester', executor: { agent: 'claude-code', model: 'sonnet-x', wallMs: 60_000, maxCalls: 12 } },
        {
          name: 'writer',
          executor: { agent: 'custom', command: 'my-agent', args: ['--json', '{prompt}'] },
          sandbox: { memoryMb: 2048 },
        },
        { name: 'designer' },
      ],
    });
    const byName = new Map(c.roles.map((r) => [r.name, r]));
    expect(byName.get('coder')?.executor).toEqual({ agent: 'codex' });
    expect(byName.get('tester')?.executor).toEqual({
      agent: 'claude-code',
      model: 'sonnet-x',
      wallMs: 60_000,
      maxCalls: 12,
    });
    expect(byName.get('writer')?.executorCommand).toEqual({ command: 'my-agent', args: ['--json', '{prompt}'] });
    expect(byName.get('writer')?.executor).toEqual({ agent: 'custom', limits: { memoryMb: 2048 } });
    expect(byName.get('designer')?.executor).toBeUndefined();
    const info = runRoles(c);
    expect(JSON.stringify(info)).not.toContain('my-agent');
    expect(info.find((r) => r.name === 'writer')?.executor).toEqual({ agent: 'custom', limits: { memoryMb: 2048 } });
    expect(info.find((r) => r.name === 'designer')).not.toHaveProperty('executor');
  });

  it('refuses mistakes with the key and what to do', () => {
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'custom' } }] })).toMatch(
      /roles\[0\]\.executor\.command: required for agent "custom"/,
    );
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'codex', command: 'x' } }] })).toMatch(
      /roles\[0\]\.executor\.command: only applies to agent "custom"/,
    );
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'gemini' } }] })).toMatch(
      /roles\[0\]\.executor\.agent/,
    );
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'codex', wallMs: 10_000_000 } }] })).toMatch(
      /executor\.wallMs/,
    );
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'codex', maxCalls: 0 } }] })).toMatch(/maxCalls/);
    expect(problem({ roles: [{ name: 'coder', executor: { agent: 'codex', shell: true } }] })).toMatch(/executor/);
    expect(problem({ roles: [{ name: 'coder', tools: ['write_file'], executor: { agent: 'codex' } }] })).toMatch(
      /either with Maestro's tools .* or with a coding-agent CLI/,
    );
  });

  it('a custom command is code: the file is refused without --trust-config, with the command shown', () => {
    const msg = problem(
      { roles: [{ name: 'coder', executor: { agent: 'custom', command: 'rm', args: ['-rf', '/'] } }] },
      '',
    );
    expect(msg).toMatch(/custom executor \(role coder\) runs: rm -rf \//);
    expect(msg).toMatch(/--trust-config/);
    // A known CLI is not the file's code: no trust needed.
    expect(
      load({ roles: [{ name: 'coder', executor: { agent: 'claude-code' } }] }, undefined).roles[0]?.executor,
    ).toEqual({
      agent: 'claude-code',
    });
  });
});
