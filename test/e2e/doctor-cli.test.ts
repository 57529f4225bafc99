/**
 * `maestro doctor` as a user runs it before a long run, against the simulated LLM: with provider
 * quirks on it finds the structured-output mode that works and prices its probe; with a wrong
 * key or an unknown model it fails with exit code 1 and says what to fix.
 */
import { mkdtempSync } from 'node:fs';
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
