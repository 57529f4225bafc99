/**
 * `maestro doctor` as a user runs it before a long run, against the simulated LLM: with provider
 * quirks on it finds the structured-output mode that works and prices its probe; with a wrong
 * key or an unknown model it fails with exit code 1 and says what to fix. Roles worked by a
 * coding-agent CLI: the real Codex and Claude Code (installed under .maestro/agent-clis) are found,
 * say their version and answer a tiny prompt through Maestro's gateway; a missing CLI fails with
 * the install command; without such roles the report has no CLI lines. What the roles need: an
 * endpoint that ignores tools (the simulator's `tools-ignored` quirk) is not ready for agent roles,
 * output caps that the measured speed cannot write within the call timeout are a warning naming the
 * settings, and the real llama.cpp engine passes the tool check and reports its tokens/s.
 */
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { DoctorReport } from '../../src/client/doctor/checks';
import { cleanEnv, runCli } from '../helpers/cli';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';

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
    // Two structured-output calls (json_schema refused, json_object) and the speed probe; no role has tools.
    expect(probe).toMatchObject({ model: 'maestro-sim', ok: true, mode: 'json_object', calls: 3, estimated: true });
    expect(probe.toolCalls).toBeUndefined();
    expect(probe.roles).toEqual(['boss', 'designer', 'writer', 'coder', 'tester']);
    expect(probe.usd).toBeGreaterThan(0);
    expect(probe.adaptations).toEqual(['structured output falls back to "json_object"']);

    const text = await runCli(['doctor'], env({}), 60_000);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('! structured output of maestro-sim: mode json_object works');
    expect(text.stdout).toMatch(
      /maestro-sim: mode json_object, 3 call\(s\), \d+\+\d+ tokens \(estimated: no usage sent\), \$0\.0000\d+/,
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

/** The demo's roles (the Coder and Tester are agents with tools) in a fresh MAESTRO_HOME. */
function demoEnv(base: NodeJS.ProcessEnv, roles?: unknown[]): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-roles-'));
  const config = path.join(home, 'maestro.config.json');
  const demo = path.resolve(__dirname, '../../examples/demo.config.json');
  writeFileSync(config, roles ? JSON.stringify({ roles }) : readFileSync(demo, 'utf8'));
  return { ...base, MAESTRO_HOME: home, MAESTRO_CONFIG: config };
}

describe('maestro doctor checks what the configured roles need', () => {
  let ignoring: SimLlm;
  let slow: SimLlm;
  beforeAll(async () => {
    ignoring = await startSimLlm({ port: 0, quirks: ['tools-ignored'] });
    slow = await startSimLlm({ port: 0, latencyMs: 400 });
  });
  afterAll(async () => {
    await ignoring?.close();
    await slow?.close();
  });

  it('an endpoint that ignores tools: the agent roles could never call one, so it is not ready', async () => {
    const base = env({ OPENAI_BASE_URL: ignoring.baseUrl });
    const res = await runCli(['doctor', '--json'], demoEnv(base), 60_000);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    // JSON still works there: the structured-output probe passes, the tool check does not.
    expect(report.checks.find((c) => c.name === 'structured output of maestro-sim')?.status).toBe('ok');
    expect(report.checks.find((c) => c.name === 'tool calls of maestro-sim')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^asked to call a tool, the model answered with text \(.*\): coder, tester could never call a tool on this endpoint$/,
      ) as string,
      fix: expect.stringContaining('give coder, tester a model that calls tools') as string,
    });
    expect(report.probes[0]).toMatchObject({ toolCalls: false });
    const text = await runCli(['doctor'], demoEnv(base), 60_000);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('✗ tool calls of maestro-sim: asked to call a tool, the model answered with text');
    expect(text.stdout).toContain('Not ready');
    expect(text.stdout).not.toContain('Ready to run.');
  });

  it('the same roles on an endpoint that serves tools: the tool check passes', async () => {
    const res = await runCli(['doctor', '--json'], demoEnv(env({})), 60_000);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as DoctorReport;
    expect(report.checks.find((c) => c.name === 'tool calls of maestro-sim')).toMatchObject({
      status: 'ok',
      detail: 'report_status was called as asked (coder, tester)',
    });
    // Structured output, tool call and speed probes: all billed.
    expect(report.probes[0]).toMatchObject({ calls: 4, toolCalls: true });
  });

  it('output caps that cannot be written within the call timeout at the measured speed: a warning naming the settings', async () => {
    const base = env({ OPENAI_BASE_URL: slow.baseUrl, OPENAI_API_KEY: 'any', MAESTRO_LLM_TIMEOUT_MS: '3000' });
    const roles = [{ name: 'coder', maxTokens: 4000 }, { name: 'writer', maxTokens: 20 }, { name: 'tester' }];
    const res = await runCli(['doctor', '--json'], demoEnv(base, roles), 60_000);
    const report = JSON.parse(res.stdout) as DoctorReport;
    const speed = report.checks.find((c) => c.name === 'speed of maestro-sim');
    expect(speed).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /^\d+\.\d tokens\/s \(\d+ tokens in \d+\.\d s\): coder's output cap of 4000 tokens would take up to \d+ s, longer than the call timeout of 3 s; a long answer would time out and be retried$/,
      ) as string,
      fix: expect.stringMatching(
        /^set MAESTRO_LLM_TIMEOUT_MS=\d+ \(or more\), or lower "maxTokens" of role coder in maestro\.config\.json to \d+ or less$/,
      ) as string,
    });
    expect(report.probes[0]!.tokensPerSecond).toBeGreaterThan(0);
    // A warning, not a failure: runs work, a long answer would time out.
    expect(res.code).toBe(0);
    const text = await runCli(['doctor'], demoEnv(base, roles), 60_000);
    expect(text.stdout).toMatch(/! speed of maestro-sim: .*coder's output cap of 4000 tokens/);
    expect(text.stdout).toMatch(/- speed of maestro-sim: set MAESTRO_LLM_TIMEOUT_MS=\d+/);
  });
});

describe('maestro doctor on the llama.cpp engine', () => {
  let engine: EngineProcess;
  beforeAll(async () => {
    engine = await startEngineProcess();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it("passes the tool check for the demo's agents and reports the engine's measured speed", async () => {
    const models = (await (await fetch(`${engine.baseUrl}/models`)).json()) as { data: { id: string }[] };
    const model = models.data[0]!.id;
    const base = env({ OPENAI_BASE_URL: engine.baseUrl, OPENAI_API_KEY: '', MAESTRO_MODEL: model });
    const res = await runCli(['doctor', '--json'], demoEnv(base), 240_000);
    const report = JSON.parse(res.stdout) as DoctorReport;
    const check = (name: string) => report.checks.find((c) => c.name === name);
    expect(check(`tool calls of ${model}`)).toMatchObject({ status: 'ok' });
    expect(check(`speed of ${model}`)).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(
        /^\d+\.\d tokens\/s \(\d+ tokens in \d+\.\d s\): an answer of up to \d+ tokens fits/,
      ) as string,
    });
    expect(report.probes[0]).toMatchObject({ model, toolCalls: true });
    expect(report.probes[0]!.tokensPerSecond).toBeGreaterThan(0);
    process.stdout.write(`doctor on the llama engine:\n${JSON.stringify(report.checks, null, 2)}\n`);
  }, 300_000);
});
