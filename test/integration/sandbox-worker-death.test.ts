/**
 * A worker that dies with SIGKILL in the middle of `run_command` takes the sandboxed command with
 * it: a real process runs the real tool code on a command that starts children and ignores
 * SIGTERM; it is SIGKILLed, and within seconds no process of the command is left on the machine.
 * The workspace folder it leaves behind is removed at the next worker start, and only if its owner
 * is dead (several workers may share a host).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { isolationAvailable, prepareSandboxHost } from '../../src/activities/tools/sandbox';
import { materialise } from '../../src/activities/tools/workspace';

const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));
const CGROUPS = '/sys/fs/cgroup/pids';
const HOLDER = path.resolve(__dirname, '..', 'fixtures', 'sandbox', 'hold-command.ts');
/** The same, in the middle of a repository's tests (issue 20: `repoTests` on a checked-out tree). */
const REPO_HOLDER = path.resolve(__dirname, '..', 'fixtures', 'sandbox', 'hold-repo-tests.ts');

/** Host pids of processes whose command line holds `token`. */
function processesWith(token: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(token)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Mount points below `dir` (from /proc/self/mounts), outermost first. */
function mountsUnder(dir: string): string[] {
  if (!existsSync('/proc/self/mounts')) return [];
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`));
}

test('this machine has a sandbox to test', () => expect(ISOLATIONS.length).toBeGreaterThan(0));

const CASES = ISOLATIONS.flatMap((isolation) => [
  [isolation, 'run_command', HOLDER, 1] as const,
  // A repo tree leaves its workspace and, beside it, its index and scratch objects.
  [isolation, 'repository tests', REPO_HOLDER, 2] as const,
]);

describe.each(CASES)('a SIGKILLed worker (%s, %s)', (isolation, _what, holderScript, folders) => {
  test('takes its sandboxed command and all its children with it; its stale workspace is cleaned', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-sbx-death-'));
    const token = `maestro-hold-${process.pid}-${isolation}-${Date.now()}`;
    const holder = spawn(process.execPath, ['--import', 'tsx', holderScript, dir, isolation, token], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    holder.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // The command and its 3 children run (each names the token on its command line).
      await waitFor(`the command to start:\n${out}`, () => processesWith(token).length >= 4, 30_000);
      const wsParent = path.join(dir, 'ws');
      expect(readdirSync(wsParent)).toHaveLength(folders);

      holder.kill('SIGKILL');
      await waitFor(
        `the command's processes to end (left: ${processesWith(token).join(', ')})`,
        () => processesWith(token).length === 0,
        5_000,
      );

      // The dead worker's workspace (and cgroup) are left; the next start removes them, and keeps a
      // live owner's.
      const store = new FsArtifactStore(path.join(dir, 'artifacts'));
      const live = await materialise(store, { dependencies: [], own: [] }, wsParent);
      expect(readdirSync(wsParent)).toHaveLength(folders + 1);
      await prepareSandboxHost(wsParent);
      expect(readdirSync(wsParent)).toEqual([path.basename(live.dir)]);
      expect(existsSync(CGROUPS) ? readdirSync(CGROUPS).filter((n) => n.includes(`-${holder.pid}.`)) : []).toEqual([]);
      await live.dispose();
      expect(existsSync(live.dir)).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      for (const pid of processesWith(token)) process.kill(pid, 'SIGKILL');
      // A workspace tmpfs a killed worker left mounted (prepareSandboxHost unmounts those of dead
      // workers): detach it, so the clean-up cannot hide the test's own failure behind an EBUSY.
      for (const mount of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', mount]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
