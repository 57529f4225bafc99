/**
 * What a hostile command cannot do from `run_command`'s sandbox, proved against the real machine
 * for every isolation it offers: leave files outside its workspace, reach host Unix sockets or IPC,
 * starve the other sandboxes of processes, exceed its memory, disk or file quota as a whole, read a
 * hidden folder whatever its name, or lose its output and exit code by creating an odd path.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { runBuiltInTool, type ToolContext } from '../../src/activities/tools/builtin-tools';
import { isolationAvailable, sandboxLimitMechanisms, type Isolation } from '../../src/activities/tools/sandbox';
import type { AgentSettings } from '../../src/shared/tools';
import type { ArtifactRef } from '../../src/shared/types';

const ALL: AgentSettings = { tools: ['read_file', 'list_files', 'write_file', 'run_command'] };
const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));

let dir: string;
let store: FsArtifactStore;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-sbx-test-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(own: ArtifactRef[], settings: AgentSettings, isolation: Isolation, hide: string[] = [dir]): ToolContext {
  return { store, files: { dependencies: [], own }, settings, hide, workspaceParent: path.join(dir, 'ws'), isolation };
}

async function runScript(isolation: Isolation, script: string, settings: AgentSettings = ALL, hide?: string[]) {
  const ref = await store.put({ path: 'probe.js', content: script });
  return runBuiltInTool(
    ctx([ref], settings, isolation, hide),
    'run_command',
    JSON.stringify({ command: 'node probe.js' }),
  );
}

/** World-writable folders of the host (outside /proc and /sys), where a command could leave files. */
function worldWritableFolders(): string[] {
  let out = '';
  try {
    out = execFileSync('find', ['/', '-xdev', '-maxdepth', '4', '-type', 'd', '-perm', '-0002'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  return out.split('\n').filter((p) => p !== '' && !p.startsWith(dir));
}

function listen(socketPath: string): Promise<Server> {
  const server = createServer((c) => c.end('HOST SOCKET ANSWERED\n'));
  return new Promise((resolve) =>
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o777);
      resolve(server);
    }),
  );
}

test('the machine says which per-sandbox limits are in force (cgroups are writable here)', () => {
  const m = sandboxLimitMechanisms();
  expect(m.processes).toMatch(/cgroup|uid/);
  expect(m.memory).toMatch(/cgroup|per process/);
});

describe.each(ISOLATIONS)('hostile commands (%s)', (isolation) => {
  test('nothing written outside the workspace survives, in any world-writable folder of the host', async () => {
    const folders = ['/run/lock', '/dev/shm', '/var/tmp', '/tmp', ...worldWritableFolders()];
    const name = `maestro-escape-${process.pid}-${isolation}`;
    const out = await runScript(
      isolation,
      `const fs = require('fs');
for (const d of ${JSON.stringify([...new Set(folders)])}) {
  try { fs.writeFileSync(d + '/${name}', 'x'); console.log('wrote', d); } catch (e) { console.log('refused', d, e.code); }
}`,
    );
    expect(out.exitCode).toBe(0);
    const survivors = [...new Set(folders)].map((d) => `${d}/${name}`).filter((p) => existsSync(p));
    for (const p of survivors) rmSync(p, { force: true });
    expect(survivors).toEqual([]);
  });

  test('host Unix sockets do not answer, wherever they are; the IPC namespace is its own', async () => {
    const tag = `${process.pid}-${isolation}`;
    const sockets = [`/run/lock/maestro-${tag}.sock`];
    const deep = `/var/lib/maestro-sock-${tag}`;
    mkdirSync(deep, { recursive: true, mode: 0o755 });
    sockets.push(`${deep}/s.sock`);
    const servers = await Promise.all(sockets.map(listen));
    // An abstract socket (no file at all) as well.
    const abstract = `\0maestro-abstract-${tag}`;
    servers.push(
      await new Promise<Server>((r) => {
        const srv = createServer((c) => c.end('HOST SOCKET ANSWERED\n'));
        srv.listen(abstract, () => r(srv));
      }),
    );
    sockets.push(abstract);
    try {
      const out = await runScript(
        isolation,
        `const net = require('net'), fs = require('fs');
console.log('ipc', fs.readlinkSync('/proc/self/ns/ipc'));
let left = ${sockets.length};
for (const p of ${JSON.stringify(sockets)}) {
  net.connect(p).on('data', (d) => console.log('ANSWER', p, String(d).trim())).on('error', (e) => console.log('refused', p, e.code))
    .on('close', () => { if (--left === 0) process.exit(0); });
}
setTimeout(() => process.exit(0), 3000);`,
      );
      expect(out.content).toMatch(/refused/);
      expect(out.content).not.toMatch(/ANSWER/);
      const inner = /ipc (ipc:\[\d+\])/.exec(out.content)?.[1];
      expect(inner).toBeDefined();
      expect(inner).not.toBe(readlinkSync('/proc/self/ns/ipc'));
    } finally {
      for (const s of servers) s.close();
      rmSync(deep, { recursive: true, force: true });
    }
  });

  test('only the devices commands need are there (no /dev/fuse, /dev/net/tun, /dev/kvm, disks)', async () => {
    const out = await runScript(isolation, `console.log('dev:', require('fs').readdirSync('/dev').sort().join(' '));`);
    const seen = (/dev: (.*)/.exec(out.content)?.[1] ?? '').split(' ');
    const allowed = [
      'core',
      'fd',
      'full',
      'null',
      'ptmx',
      'pts',
      'random',
      'shm',
      'stderr',
      'stdin',
      'stdout',
      'tty',
      'urandom',
      'zero',
    ];
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.filter((d) => !allowed.includes(d))).toEqual([]);
  });

  test('each sandbox has its own process limit: one that holds its processes does not starve another', async () => {
    const settings: AgentSettings = { ...ALL, limits: { maxProcesses: 24, timeoutMs: 30_000 } };
    // The hog holds 20 processes for 10 s; the other sandbox then starts 15 of its own.
    const hog = runScript(
      isolation,
      `const { spawn } = require('child_process');
for (let i = 0; i < 20; i++) spawn('sleep', ['10'], { stdio: 'ignore' }).on('error', (e) => console.log('hog', e.code));
console.log('holding'); setTimeout(() => process.exit(0), 10000);`,
      settings,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const other = await runScript(
      isolation,
      `const { spawnSync } = require('child_process');
let ok = 0, failed = [];
for (let i = 0; i < 15; i++) { const r = spawnSync('true'); if (r.error) failed.push(r.error.code); else ok++; }
console.log('started', ok, 'failed', failed.join(','));`,
      settings,
    );
    expect(other.content).toMatch(/started 15 failed \n/);
    expect((await hog).content).toMatch(/holding/);
  }, 60_000);

  test('four `npm test` runs in parallel all pass under the default limits', async () => {
    const files = [
      await store.put({ path: 'package.json', content: JSON.stringify({ name: 'p', scripts: { test: 'node t.js' } }) }),
      await store.put({
        path: 't.js',
        content: `const { execFileSync } = require('child_process');
console.log('child says', execFileSync('node', ['-e', 'console.log(6 * 7)']).toString().trim());`,
      }),
    ];
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() =>
        runBuiltInTool(ctx(files, ALL, isolation), 'run_command', JSON.stringify({ command: 'npm test' })),
      ),
    );
    for (const out of runs) {
      expect(out.content).toMatch(/child says 42/);
      expect(out.exitCode).toBe(0);
    }
  }, 90_000);

  test('a process bomb is refused at maxProcesses, threads included, and the result says so', async () => {
    const out = await runScript(
      isolation,
      `const { spawn } = require('child_process');
let n = 0, refused = 0;
for (let i = 0; i < 40; i++) { try { spawn('sleep', ['5'], { stdio: 'ignore' }).on('error', () => refused++); n++; } catch { refused++; } }
setTimeout(() => { console.log('spawned', n, 'refused', refused); process.exit(0); }, 1500);`,
      { ...ALL, limits: { maxProcesses: 20 } },
    );
    expect(out.content).toMatch(/refused [1-9]\d*/);
    expect(out.content).toMatch(/limit reached: process limit of 20/);
    expect(out.exitCode).toBe(0);
  });

  test('memory is bounded for the sandbox as a whole, not per process; the result names the limit', async () => {
    const out = await runScript(
      isolation,
      `const { spawn } = require('child_process');
const kids = [];
for (let i = 0; i < 4; i++) kids.push(new Promise((r) => spawn('node', ['-e', 'const b = Buffer.alloc(200 << 20, 1); console.log("child holds", b.length); setTimeout(() => {}, 4000)'], { stdio: 'inherit' }).on('exit', (c, s) => r(s || c))));
Promise.all(kids).then((ends) => { console.log('children ended', ends.join(' ')); process.exit(5); });`,
      { ...ALL, limits: { memoryMb: 512, timeoutMs: 30_000 } },
    );
    expect(out.content).toMatch(/limit reached: memory limit of 512 MB for the whole sandbox/);
    expect(out.content).toMatch(/children ended .*SIGKILL/);
    expect(out.exitCode).toBe(5);
  }, 60_000);

  test('total bytes written in the workspace are bounded; exit code and output are kept', async () => {
    const out = await runScript(
      isolation,
      `const fs = require('fs');
let written = 0;
try { for (let i = 0; i < 20; i++) { fs.writeFileSync('big-' + i + '.bin', Buffer.alloc(20 << 20, 1)); written += 20; } }
catch (e) { console.log('write failed', e.code, 'after', written, 'MB'); process.exit(6); }
console.log('wrote', written, 'MB');`,
      { ...ALL, limits: { diskMb: 100 } },
    );
    expect(out.content).toMatch(/write failed ENOSPC after \d+ MB/);
    expect(out.content).toMatch(/limit reached: disk limit of 100 MB for the workspace/);
    expect(out.exitCode).toBe(6);
  }, 60_000);

  test('files and folders are bounded in number; a million empty folders do not stall the tool', async () => {
    const started = Date.now();
    const out = await runScript(
      isolation,
      `const fs = require('fs');
let n = 0;
try { for (; n < 1000000; n++) fs.mkdirSync('d' + n); } catch (e) { console.log('mkdir failed', e.code, 'after', n); process.exit(7); }
console.log('made', n);`,
      { ...ALL, limits: { maxFiles: 2000, timeoutMs: 20_000 } },
    );
    expect(out.content).toMatch(/mkdir failed ENOSPC after \d+/);
    expect(out.content).toMatch(/limit reached: file and folder limit of 2000/);
    expect(out.exitCode).toBe(7);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);

  test.each(['with space', 'at@sign', 'plus+sign'])('a hidden folder named "%s" is hidden', async (name) => {
    // Outside /tmp (which the sandbox covers anyway), as MAESTRO_HOME often is.
    const secret = path.join(`/var/lib/maestro-secret-${process.pid}`, name);
    mkdirSync(secret, { recursive: true });
    writeFileSync(path.join(secret, 'key.txt'), 'TOP-SECRET');
    const out = await runScript(
      isolation,
      `try { console.log('read', require('fs').readFileSync(${JSON.stringify(`${secret}/key.txt`)}, 'utf8')); } catch (e) { console.log('hidden', e.code); }`,
      ALL,
      [secret],
    );
    rmSync(path.dirname(secret), { recursive: true, force: true });
    expect(out.content).not.toMatch(/TOP-SECRET/);
    expect(out.content).toMatch(/hidden ENOENT/);
  });

  test('a created path longer than 200 characters is left out, and the output and exit code are kept', async () => {
    const out = await runScript(
      isolation,
      `const fs = require('fs');
const deep = 'a'.repeat(60) + '/' + 'b'.repeat(60) + '/' + 'c'.repeat(60);
fs.mkdirSync(deep, { recursive: true });
fs.writeFileSync(deep + '/' + 'd'.repeat(40) + '.txt', 'x');
fs.writeFileSync('short.txt', 'kept');
console.log('done writing'); process.exit(9);`,
    );
    expect(out.exitCode).toBe(9);
    expect(out.content).toMatch(/exit code 9/);
    expect(out.content).toMatch(/done writing/);
    expect(out.written.map((w) => w.path)).toEqual(['short.txt']);
    expect(out.content).toMatch(/not kept: .*longer than 200 characters/);
  });
});
