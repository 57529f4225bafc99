/**
 * `maestro doctor` runs each executor CLI's `--version`. A hostile (or broken) CLI that forks
 * children which keep running, or keep its output open, must not hang the doctor nor leave
 * processes behind.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliVersion } from '../../src/client/doctor/cli-checks';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pidIn(file: string): Promise<number> {
  for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  return Number(readFileSync(file, 'utf8').trim());
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

describe('cliVersion against a CLI that forks', () => {
  it('a --version that hangs with a child holding its output: bounded, child killed', async () => {
    const pidFile = path.join(dir, 'child1.pid');
    const t0 = Date.now();
    const v = await cliVersion(script('forks-hang', `sleep 60 & echo $! > ${pidFile}\nsleep 60`), 700);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(v.error).toMatch(/no answer to --version/);
    const child = await pidIn(pidFile);
    const dead = await gone(child);
    if (!dead) process.kill(child, 'SIGKILL');
    expect(dead).toBe(true);
  });

  it('a --version that answers and leaves a child behind: the version, child killed', async () => {
    const pidFile = path.join(dir, 'child2.pid');
    const t0 = Date.now();
    const v = await cliVersion(
      script('forks-answers', `echo "fake 9.9"\nsleep 60 > /dev/null 2>&1 < /dev/null & echo $! > ${pidFile}\nexit 0`),
      3000,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(v.version).toBe('fake 9.9');
    const child = await pidIn(pidFile);
    const dead = await gone(child);
    if (!dead) process.kill(child, 'SIGKILL');
    expect(dead).toBe(true);
  });
});
