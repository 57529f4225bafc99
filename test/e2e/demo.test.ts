/**
 * `npm run demo` as the README promises it: the demo's command line (read from package.json, so
 * the two never drift apart) run as a subprocess with the demo config, the simulated LLM and the
 * suite's Temporal server (`maestro run` starts its own worker on a fresh task queue). The story a
 * user must see: the Tester's test fails once (8/9), the Boss sends the Coder's ticket back with
 * the failure, the Coder fixes the page, the Tester's re-run passes (9/9) and the report quotes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanEnv, runCli } from '../helpers/cli';
import { testAddress, uniqueQueue } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '..', '..');

/** The demo script of package.json: its config file and its `maestro` arguments. */
function demoCommand(): { config: string; args: string[] } {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const m = /^MAESTRO_CONFIG=(\S+) node dist\/client\/cli\.js run "([^"]+)"((?: --[a-z-]+)*)$/.exec(
    pkg.scripts.demo ?? '',
  );
  if (!m) throw new Error(`unexpected demo script: ${pkg.scripts.demo}`);
  return { config: path.join(REPO, m[1]!), args: ['run', m[2]!, ...m[3]!.trim().split(' ').filter(Boolean)] };
}

it("npm run demo: the Tester's failing test re-opens the Coder's ticket, the fix passes 9/9", async () => {
  const { config, args } = demoCommand();
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-demo-'));
  const res = await runCli(
    args,
    cleanEnv({
      MAESTRO_CONFIG: config,
      MAESTRO_HOME: home,
      TEMPORAL_ADDRESS: testAddress(),
      MAESTRO_TASK_QUEUE: uniqueQueue('demo'),
      MAESTRO_SIM_LATENCY_MS: '0',
    }),
    240_000,
  );
  expect(res.code).toBe(0);
  // Progress: T3 accepted, T4's test fails, T3 is re-opened with the failure, both run again.
  expect(res.stderr).toMatch(
    /T3 \[coder\] Build the landing page: accepted after 1 attempt[\s\S]*T4 \[tester\] Test the page: running\n {2}T3 re-opened \(1 of 2\): T4's check failed: The tests of index\.html failed: node tests\/check-page\.mjs: exit code 1 \([^)]*\); 8\/9 checks passed; FAIL declares the language on <html>[\s\S]*T3 \[coder\] Build the landing page: accepted after 2 attempt[\s\S]*T4 \[tester\] Test the page: accepted after 2 attempt/,
  );
  expect(res.stdout).toContain('Result: completed — 4/4 tickets accepted');
  expect(res.stdout).toMatch(
    /T3 +coder +accepted +2x +\$[\d.]+ +Build the landing page {2}\(re-opened 1x after a failing check\)/,
  );
  // The tool calls: the failing run, then the passing one.
  expect(res.stdout).toMatch(
    /T4 tester turn 3: run_command node tests\/check-page\.mjs — error, exit 1,[\s\S]*T4 tester turn 3: run_command node tests\/check-page\.mjs — ok, exit 0,/,
  );
  // The final report quotes the Tester's passing run.
  expect(res.stdout).toMatch(
    /T4 Test the page \(tester\): accepted — Results: node tests\/check-page\.mjs: exit code 0 \([^)]*\); 9\/9 checks passed/,
  );
  const outDir = /Files \(\d+\) assembled in: (.+)/.exec(res.stdout)?.[1]?.trim();
  expect(outDir).toBeDefined();
  expect(readFileSync(path.join(outDir!, 'index.html'), 'utf8')).toContain('<html lang="en">');
  expect(readFileSync(path.join(outDir!, 'TEST-REPORT.md'), 'utf8')).toMatch(
    /## Results of the runs in the sandbox[\s\S]*exit code 0[^\n]*; 9\/9 checks passed/,
  );
  const check = execFileSync(process.execPath, [path.join(outDir!, 'tests', 'check-page.mjs')], { encoding: 'utf8' });
  expect(check).toContain('9/9 checks passed');

  // Scripts see the same tool calls as `watch --json` events, each once.
  const watched = await runCli(
    ['watch', path.basename(outDir!), '--json'],
    cleanEnv({ MAESTRO_CONFIG: config, MAESTRO_HOME: home, TEMPORAL_ADDRESS: testAddress() }),
    60_000,
  );
  expect(watched.code).toBe(0);
  const events = watched.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; call?: { ticketId: string; summary: string; status: string } });
  const checks = events
    .filter((e) => e.type === 'tool' && e.call?.summary === 'run_command node tests/check-page.mjs')
    .map((e) => `${e.call!.ticketId} ${e.call!.status}`);
  expect(checks).toEqual(['T4 error', 'T4 ok']);
  expect(events.at(-1)).toMatchObject({ type: 'end', phase: 'completed', accepted: 4, tickets: 4 });
});
