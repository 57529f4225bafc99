/**
 * A missing browser is a setup problem, said before a run starts (issue 19, item 6.2): with a
 * role that has `check_page` and MAESTRO_CHROMIUM_PATH pointing at no browser, `maestro doctor`
 * fails and says what to install or set, and `maestro run` refuses to start the run (exit 2)
 * instead of letting a Tester spend its calls on checks that cannot run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DoctorReport } from '../../src/client/doctor/checks';
import { cleanEnv, runCli } from '../helpers/cli';
import { connectTest, testAddress, uniqueQueue } from '../helpers/temporal';

const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-browser-setup-'));
const config = path.join(home, 'maestro.config.json');
const missing = path.join(home, 'no-such-chromium');
writeFileSync(
  config,
  JSON.stringify({
    roles: [
      { name: 'coder', tools: ['list_files', 'read_file', 'write_file'] },
      { name: 'tester', tools: ['list_files', 'read_file', 'check_page'] },
    ],
  }),
);

const env = (extra: NodeJS.ProcessEnv = {}) =>
  cleanEnv({
    MAESTRO_HOME: home,
    MAESTRO_CONFIG: config,
    MAESTRO_CHROMIUM_PATH: missing,
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue('browser-setup'),
    MAESTRO_SIM_LATENCY_MS: '0',
    ...extra,
  });

test('maestro doctor fails on a missing browser and says what to install or set', async () => {
  const json = await runCli(['doctor', '--json'], env(), 90_000);
  expect(json.code).toBe(1);
  const report = JSON.parse(json.stdout) as DoctorReport;
  expect(report.ok).toBe(false);
  expect(report.checks.find((c) => c.name === 'browser for check_page')).toEqual({
    name: 'browser for check_page',
    status: 'fail',
    detail: `role(s) tester use check_page, but no browser can be launched on this machine: no Chromium at ${missing}: install it (apt-get install chromium) or set MAESTRO_CHROMIUM_PATH to a Chromium binary.`,
    fix: 'Install Chromium (apt-get install chromium), or set MAESTRO_CHROMIUM_PATH to a Chromium binary, or remove "check_page" from the "tools" of role(s) tester in maestro.config.json.',
  });
  const text = await runCli(['doctor'], env(), 90_000);
  expect(text.code).toBe(1);
  expect(text.stdout).toContain(`✗ browser for check_page: role(s) tester use check_page`);
  expect(text.stdout).toContain('Not ready');
});

test('maestro doctor passes the browser check with the real Chromium', async () => {
  const res = await runCli(['doctor', '--json'], env({ MAESTRO_CHROMIUM_PATH: '/usr/bin/chromium' }), 90_000);
  const report = JSON.parse(res.stdout) as DoctorReport;
  expect(report.checks.find((c) => c.name === 'browser for check_page')).toMatchObject({
    status: 'ok',
    detail: 'Chromium at /usr/bin/chromium starts (tester)',
  });
});

test('maestro run refuses to start a run whose page checks cannot run, and says why', async () => {
  const runId = `browser-setup-${Date.now()}`;
  const res = await runCli(['run', 'Build a landing page for a tea room', '--run-id', runId], env(), 120_000);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain(
    `WARNING: role(s) tester use check_page, but no browser can be launched on this machine`,
  );
  expect(res.stderr).toContain('apt-get install chromium');
  expect(res.stderr).toContain('MAESTRO_CHROMIUM_PATH');
  // Nothing was started: no run, so no LLM call was spent.
  const conn = await connectTest();
  try {
    await expect(conn.client.workflow.getHandle(runId).describe()).rejects.toThrow(/not found/i);
  } finally {
    await conn.close();
  }
});
