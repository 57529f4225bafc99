/**
 * A hostile run or model against a worker: a run sent straight to Temporal (bypassing the CLI)
 * cannot give its commands more than the worker's own configuration allows, and a command cannot
 * read the secret files the worker was configured with (payload encryption keys, TLS key), even
 * when they are readable by everyone and lie outside MAESTRO_HOME.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { runBuiltInTool } from '../../src/activities/tools/builtin-tools';
import { isolationAvailable } from '../../src/activities/tools/sandbox';
import { materialise } from '../../src/activities/tools/workspace';
import { loadConfig } from '../../src/config';
import { activityDepsFromConfig } from '../../src/workers/activity-deps';

const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-'));

/** Secret files live outside /tmp (which every sandbox covers anyway), as they would on a host. */
let secrets: string;
beforeAll(() => {
  secrets = mkdtempSync(path.join(process.cwd(), '.hostile-secrets-'));
  chmodSync(secrets, 0o755);
});
afterAll(() => rmSync(secrets, { recursive: true, force: true }));

describe('a run cannot raise the limits of its commands beyond the worker’s own configuration', () => {
  it('a forged run asking for a 1-hour, 64 GB sandbox gets the worker’s 1.5 s time limit', async () => {
    const file = path.join(tmp(), 'maestro.config.json');
    writeFileSync(
      file,
      JSON.stringify({ roles: [{ name: 'tester', tools: ['run_command'], sandbox: { timeoutMs: 1500 } }] }),
    );
    const config = loadConfig({ MAESTRO_HOME: tmp(), MAESTRO_CONFIG: file, MAESTRO_TRUST_CONFIG: file }, tmp());
    const deps = activityDepsFromConfig(config, 'http://127.0.0.1:9/v1');
    const acts = createActivities(deps);
    const slow = await deps.store.put({ path: 'slow.js', content: 'setTimeout(() => console.log("done"), 6000);' });
    const input: Parameters<typeof acts.agentTool>[0] = {
      runId: 'r1',
      ticketId: 'T1',
      role: 'tester',
      turn: 1,
      call: { id: 'c1', name: 'run_command', arguments: JSON.stringify({ command: 'node slow.js' }) },
      settings: {
        tools: ['run_command'],
        limits: { timeoutMs: 3_600_000, memoryMb: 65_536, maxProcesses: 4096, diskMb: 65_536 },
      },
      dependencies: [],
      own: [slow],
    };
    const out = await new MockActivityEnvironment().run<
      [typeof input],
      Awaited<ReturnType<typeof acts.agentTool>>,
      typeof acts.agentTool
    >(acts.agentTool, input);
    expect(out.result.content).toMatch(/STOPPED by the sandbox: time limit of 1500 ms reached/);
    expect(out.result.content).not.toContain('done');
  }, 30_000);
});

describe.each(ISOLATIONS)('%s: a command cannot read the worker’s secret files', (isolation) => {
  it('the payload encryption key file (world-readable, reached by its own path or a link) is covered', async () => {
    const key = randomBytes(32).toString('base64');
    const real = path.join(secrets, `keys-${isolation}.json`);
    writeFileSync(real, JSON.stringify({ current: 'k1', keys: { k1: key } }), { mode: 0o644 });
    const link = path.join(secrets, `link-${isolation}.json`);
    symlinkSync(real, link);
    const config = loadConfig({ MAESTRO_HOME: tmp(), MAESTRO_ENCRYPTION_KEY_FILE: link }, tmp());
    const deps = activityDepsFromConfig(config, 'http://127.0.0.1:9/v1');
    for (const target of [real, link]) {
      const out = await runBuiltInTool(
        {
          store: deps.store,
          files: { dependencies: [], own: [] },
          settings: { tools: ['run_command'] },
          hide: deps.sandboxHide ?? [],
          workspaceParent: path.join(tmp(), 'ws'),
          isolation,
        },
        'run_command',
        JSON.stringify({ command: `cat ${target}` }),
      );
      expect(out.content).not.toContain(key);
      // The sandbox itself started (bwrap cannot mount over a link); the file reads as empty or not at all.
      expect(out.content).not.toMatch(/bwrap:|sandbox:/);
      expect(out.content).toMatch(/exit code 0|Permission denied/);
    }
  }, 30_000);
});

describe('a configuration file that widens what commands may do needs the person to trust it', () => {
  it('programs beyond the defaults and limits above them are listed and refused, unless trusted', () => {
    const file = path.join(tmp(), 'maestro.config.json');
    const role = { name: 'tester', tools: ['run_command'], programs: ['node', 'sh'], sandbox: { maxProcesses: 4096 } };
    writeFileSync(file, JSON.stringify({ roles: [role] }));
    const load = (trust?: string) =>
      loadConfig(
        { MAESTRO_HOME: tmp(), MAESTRO_CONFIG: file, ...(trust ? { MAESTRO_TRUST_CONFIG: trust } : {}) },
        tmp(),
      );
    expect(() => load()).toThrow(/run_command may start sh \(role tester\)/);
    expect(() => load()).toThrow(/maxProcesses 4096 \(default 64\)/);
    expect(load(file).roles[0]?.agent?.programs).toEqual(['node', 'sh']);
  });
});

describe.each(ISOLATIONS)('%s: a command cannot read another ticket’s workspace', (isolation) => {
  it('with workspaces outside /tmp (TMPDIR elsewhere), a neighbour’s workspace folder is covered', async () => {
    const parent = mkdtempSync(path.join(secrets, 'ws-'));
    chmodSync(parent, 0o1777); // as a TMPDIR is
    const store = new FsArtifactStore(path.join(tmp(), 'artifacts'));
    const mine = await store.put({ path: 'mine.txt', content: 'mine' });
    const theirs = await store.put({ path: 'notes.txt', content: 'NEIGHBOUR-SECRET' });
    const neighbour = await materialise(store, { dependencies: [], own: [theirs] }, parent);
    try {
      const out = await runBuiltInTool(
        {
          store,
          files: { dependencies: [], own: [mine] },
          settings: { tools: ['run_command'] },
          hide: [],
          workspaceParent: parent,
          isolation,
        },
        'run_command',
        JSON.stringify({ command: `cat mine.txt ${path.join(neighbour.dir, 'notes.txt')}` }),
      );
      expect(out.content).toContain('mine'); // its own workspace is still there
      expect(out.content).not.toContain('NEIGHBOUR-SECRET');
    } finally {
      await neighbour.dispose();
    }
  }, 30_000);
});

describe('a run cannot drop an approval the worker’s own configuration requires', () => {
  it('a forged run without approvals gets a tool error for run_command the worker says needs one; nothing runs', async () => {
    const file = path.join(tmp(), 'maestro.config.json');
    const role = { name: 'tester', tools: ['run_command'], approvals: { run_command: 'always' } };
    writeFileSync(file, JSON.stringify({ roles: [role] }));
    const config = loadConfig({ MAESTRO_HOME: tmp(), MAESTRO_CONFIG: file, MAESTRO_TRUST_CONFIG: file }, tmp());
    const acts = createActivities(activityDepsFromConfig(config, 'http://127.0.0.1:9/v1'));
    const run = async (approvals?: Record<string, 'always' | 'never'>) => {
      const input: Parameters<typeof acts.agentTool>[0] = {
        runId: 'r1',
        ticketId: 'T1',
        role: 'tester',
        turn: 1,
        call: { id: 'c1', name: 'run_command', arguments: JSON.stringify({ command: 'echo ran-it' }) },
        settings: { tools: ['run_command'], ...(approvals ? { approvals } : {}) },
        dependencies: [],
        own: [],
      };
      return new MockActivityEnvironment().run<
        [typeof input],
        Awaited<ReturnType<typeof acts.agentTool>>,
        typeof acts.agentTool
      >(acts.agentTool, input);
    };
    const forged = await run({ run_command: 'never' });
    expect(forged.result.content).toMatch(/needs a person's approval \(always\) on this worker/);
    expect(forged.result.content).not.toContain('ran-it');
    expect((await run()).result.content).not.toContain('ran-it');
    // A run whose gate asked a person (as the worker requires) runs the approved call.
    expect((await run({ run_command: 'always' })).result.content).toContain('ran-it');
  }, 30_000);
});
