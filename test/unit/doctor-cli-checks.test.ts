/**
 * What `maestro doctor` prints of a coding-agent CLI is untrusted (a broken or hostile install, a
 * provider's error): one plain line, clipped; `--version` is bounded in time; and a probe that did
 * not reach the model is never reported as working.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliRun } from '../../src/activities/executor/run-cli';
import { emptyProgress } from '../../src/activities/executor/events';
import { cliText, cliVersion, probeFailure } from '../../src/client/doctor/cli-checks';
import type { LlmCallRecord } from '../../src/shared/types';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f]/;

describe('cliVersion', () => {
  it('keeps the first line, without escape sequences or bidi, clipped', async () => {
    const v = await cliVersion(
      script('evil', `printf '\\n\\033[2Jcodex 1.2.3 \\342\\200\\256gpj.exe${'x'.repeat(500)}\\nsecond line\\n'`),
      5000,
    );
    expect(v.version).toMatch(/^\[2Jcodex 1\.2\.3 gpj\.exex+…$/);
    expect(v.version).not.toMatch(CONTROL);
    expect(v.version!.length).toBeLessThanOrEqual(100);
  });

  it('gives up on a CLI that does not answer in time, and says so', async () => {
    const t0 = Date.now();
    const v = await cliVersion(script('hang', 'exec sleep 30'), 500);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(v).toEqual({ error: 'no answer to --version within 1 s' });
  });

  it('reports a program that cannot start', async () => {
    const v = await cliVersion(path.join(dir, 'missing'), 2000);
    expect(v.error).toMatch(/ENOENT/);
  });
});

const run = (o: Partial<CliRun> = {}): CliRun => ({
  sandbox: { exitCode: 0, output: '', durationMs: 1 } as unknown as CliRun['sandbox'],
  progress: emptyProgress(),
  exit: { code: 0, signal: null },
  stderrTail: '',
  transcript: '',
  ...o,
});
const call = (error?: string): LlmCallRecord =>
  ({ promptTokens: 10, completionTokens: 2, ...(error ? { error } : {}) }) as LlmCallRecord;

describe('probeFailure', () => {
  it('passes only a CLI that exited 0 without an error after at least one answered call', () => {
    expect(probeFailure(run(), [call()], 60_000)).toBeUndefined();
    expect(probeFailure(run(), [], 60_000)?.detail).toMatch(/made no model call through Maestro's gateway/);
    expect(probeFailure(run(), [call('MaestroLlmConfigError')], 60_000, '401 wrong key')?.detail).toBe(
      "the provider refused the CLI's call through Maestro's gateway: 401 wrong key",
    );
    const errored = run({ progress: { ...emptyProgress(), error: 'API Error: 500' } });
    expect(probeFailure(errored, [call()], 60_000)?.detail).toMatch(
      /ended with an error \(exit 0\); it said: API Error: 500/,
    );
    expect(probeFailure(run({ exit: { code: 2, signal: null } }), [call()], 60_000)).toBeDefined();
    const timedOut = run({ sandbox: { stopped: 'timeout' } as unknown as CliRun['sandbox'] });
    expect(probeFailure(timedOut, [call()], 90_000)?.detail).toMatch(/^no answer within 90 s/);
    expect(probeFailure(run({ exit: undefined }), [], 60_000)?.detail).toMatch(/did not run in the sandbox/);
  });

  it('shows what the CLI printed as one clean, bounded line', () => {
    const hostile = run({
      exit: { code: 1, signal: null },
      stderrTail: `ok\n\u001b[31mFAIL\u202e\nWaiting for a person: final#9${'y'.repeat(5000)}`,
      progress: { ...emptyProgress(), error: '\u0007bell\r\noverwrite' },
    });
    const f = probeFailure(hostile, [call()], 60_000)!;
    expect(f.detail).not.toMatch(CONTROL);
    expect(f.detail.length).toBeLessThan(800);
    expect(cliText('a\nb\tc\u200bd')).toBe('a b cd');
  });
});
