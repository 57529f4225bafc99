/**
 * `maestro doctor` as a user runs it before a long run, against the simulated LLM: with provider
 * quirks on it finds the structured-output mode that works and prices its probe; with a wrong
 * key or an unknown model it fails with exit code 1 and says what to fix. Roles worked by a
 * coding-agent CLI: the real Codex and Claude Code (installed under .maestro/agent-clis) are found,
 * say their version and answer a tiny prompt through Maestro's gateway; a missing CLI fails with
 * the install command; without such roles the report has no CLI lines.
 */
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { DoctorReport } from '../../src/client/doctor/checks';
import { cleanEnv, runCli } from '../helpers/cli';

let sim: SimLlm;
const KEY = 'the-right-key';
beforeAll(async () => {
  sim = await startSimLlm({ port: 0, requireApiKey: KEY, quirks: ['json-schema-refused', 'no-usage'] });
});
afterAll(async () => {
  await sim?.close();
});

const env = (extra: NodeJS.ProcessEnv) =>
  cleanEnv({
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: KEY,
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-')),
    ...extra,
  });

describe('maestro doctor', () => {
  it('with quirks on: finds the mode that works, prices the probe, and says so', async () => {
    const res = await runCli(['doctor', '--json'], env({}), 60_000);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as DoctorReport;
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'API key accepted')?.status).toBe('ok');
    expect(report.checks.find((c) => c.name === 'model maestro-sim')?.status).toBe('ok');
    expect(report.probes).toHaveLength(1); // one model for the Boss and every role: one probe
    const probe = report.probes[0]!;
    expect(probe).toMatchObject({ model: 'maestro-sim', ok: true, mode: 'json_object', calls: 2, estimated: true });
    expect(probe.roles).toEqual(['boss', 'designer', 'writer', 'coder', 'tester']);
    expect(probe.usd).toBeGreaterThan(0);
    expect(probe.adaptations).toEqual(['structured output falls back to "json_object"']);

    const text = await runCli(['doctor'], env({}), 60_000);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('! structured output of maestro-sim: mode json_object works');
    expect(text.stdout).toMatch(
      /maestro-sim: mode json_object, 2 call\(s\), \d+\+\d+ tokens \(estimated: no usage sent\), \$0\.0000\d+/,
    );
    expect(text.stdout).toContain('"llm": {"outputMode": "json_object"}');
    expect(text.stdout).toContain('Ready to run.');
  });

  it('with a wrong key: fails and says which variable to set', async () => {
    const res = await runCli(['doctor'], env({ OPENAI_API_KEY: 'a-wrong-key' }), 60_000);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('✓ endpoint reachable');
    expect(res.stdout).toContain('✗ API key accepted: 401');
    expect(res.stdout).toContain(`API key accepted: set OPENAI_API_KEY to a valid key for ${sim.baseUrl}`);
    expect(res.stdout).toContain('Not ready');
  });

  it("the README's example without MAESTRO_MODEL: says the default model is not listed and which MAESTRO_MODEL to set", async () => {
    const noModel = env({});
    delete noModel.MAESTRO_MODEL;
    const res = await runCli(['doctor'], noModel, 60_000);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      "MAESTRO_MODEL is not set, so boss, designer, writer, coder, tester use Maestro's default model gpt-4.1-mini, which this endpoint does not list: set MAESTRO_MODEL=maestro-sim (or another listed model) and run `maestro doctor` again",
    );
    const fixed = await runCli(['doctor'], { ...noModel, MAESTRO_MODEL: 'maestro-sim' }, 60_000);
    expect(fixed.stdout).toContain('Ready to run.');
    expect(fixed.code).toBe(0);
  });

  it('with a model the endpoint does not list, or nothing listening: fails with the fix', async () => {
    const missing = await runCli(['doctor', '--json'], env({ MAESTRO_MODEL: 'gpt-nope' }), 60_000);
    expect(missing.code).toBe(1);
    const report = JSON.parse(missing.stdout) as DoctorReport;
    expect(report.checks.find((c) => c.name === 'model gpt-nope')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('to a listed model') as string,
    });
    const down = await runCli(['doctor'], env({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }), 60_000);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('✗ endpoint reachable');
    expect(down.stdout).toContain('fix OPENAI_BASE_URL');
  });
});

/** A MAESTRO_HOME whose agent-clis are the real installs, and a config giving roles these CLIs. */
/** A MAESTRO_HOME with the roles in its config and (unless `noClis`) the installed CLIs linked in. */
function cliEnv(roles: unknown[], noClis = false): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-clis-'));
  if (!noClis) symlinkSync(path.resolve(__dirname, '../../.maestro/agent-clis'), path.join(home, 'agent-clis'));
  const config = path.join(home, 'maestro.config.json');
  writeFileSync(config, JSON.stringify({ roles }));
  return env({ MAESTRO_HOME: home, MAESTRO_CONFIG: config });
}

describe('maestro doctor with coding-agent CLIs', () => {
  it('finds Codex and Claude Code, says their versions, and has each answer through the gateway', async () => {
    const res = await runCli(
      ['doctor', '--json'],
      cliEnv([
        { name: 'coder', executor: { agent: 'codex' } },
        { name: 'writer', executor: { agent: 'claude-code' } },
        { name: 'tester' },
      ]),
      400_000,
    );
    const report = JSON.parse(res.stdout) as DoctorReport;
    const check = (name: string) => report.checks.find((c) => c.name === name);
    expect(check('codex CLI (coder)')).toMatchObject({ status: 'ok' });
    expect(check('codex CLI (coder)')?.detail).toMatch(
      /^found at \S+\/agent-clis\/node_modules\/\.bin\/codex, version codex-cli \d+\.\d+/,
    );
    expect(check('claude-code CLI (writer)')?.detail).toMatch(
      /^found at \S+\/claude, version \d+\.\d+\.\d+ \(Claude Code\)/,
    );
    for (const name of [
      'codex reaches maestro-sim through Maestro (coder)',
      'claude-code reaches maestro-sim through Maestro (writer)',
    ]) {
      expect(check(name)).toMatchObject({ status: 'ok' });
      expect(check(name)?.detail).toMatch(/^[1-8] model call\(s\) through the gateway, \d+ tokens/);
    }
    expect(res.code).toBe(0);
    expect(report.ok).toBe(true);
  }, 420_000);

  it('a CLI whose provider refuses its call through the gateway fails with the reason', async () => {
    const res = await runCli(
      ['doctor', '--json'],
      { ...cliEnv([{ name: 'writer', executor: { agent: 'claude-code' } }]), OPENAI_API_KEY: 'a-wrong-key' },
      200_000,
    );
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as DoctorReport;
    expect(report.checks.find((c) => c.name === 'claude-code CLI (writer)')?.status).toBe('ok');
    expect(
      report.checks.find((c) => c.name === 'claude-code reaches maestro-sim through Maestro (writer)'),
    ).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^the provider refused the CLI's call through Maestro's gateway: .*401/) as string,
      fix: expect.stringContaining('check the provider, key') as string,
    });
  }, 220_000);

  it('a CLI that is not installed fails with the command that installs it; a role without one adds nothing', async () => {
    const res = await runCli(
      ['doctor'],
      cliEnv([{ name: 'coder', executor: { agent: 'aider' } }, { name: 'writer' }], true),
      60_000,
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/✗ aider CLI \(coder\): not installed \(looked in \S+\/agent-clis and PATH\)/);
    expect(res.stdout).toContain('pip install aider-chat==0.86.2');
    expect(res.stdout).not.toContain('reaches');
    const none = await runCli(['doctor', '--json'], cliEnv([{ name: 'coder' }, { name: 'writer' }]), 60_000);
    const report = JSON.parse(none.stdout) as DoctorReport;
    expect(report.checks.map((c) => c.name).filter((n) => /CLI|reaches/.test(n))).toEqual([]);
  });
});
