/**
 * The tool layer against the real machine: workspaces materialised from a real artifact store,
 * file tools that never leave the workspace (symlinks included), and `run_command` in the real
 * sandbox, where network access, writes outside the workspace, a fork bomb and a command past its
 * time limit are all stopped with a clear tool error while the machine stays unharmed.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { runBuiltInTool, type ToolContext } from '../../src/activities/tools/builtin-tools';
import {
  isolationAvailable,
  parseCommand,
  runSandboxed,
  SandboxRefusal,
  type Isolation,
} from '../../src/activities/tools/sandbox';
import { listFiles, materialise, resolveInside, workspacePath } from '../../src/activities/tools/workspace';
import type { AgentSettings } from '../../src/shared/tools';
import type { ArtifactRef } from '../../src/shared/types';

const ALL: AgentSettings = { tools: ['read_file', 'list_files', 'write_file', 'run_command'] };

let dir: string;
let store: FsArtifactStore;
let deps: ArtifactRef[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-tools-test-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  deps = [
    await store.put({ path: 'index.html', content: '<!doctype html><title>x</title>' }),
    await store.put({ path: 'tests/ok.mjs', content: 'console.log("all good"); process.exit(0);\n' }),
  ];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every isolation this machine offers is tested (CI runs as root with bubblewrap installed: both). */
const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));

function ctx(own: ArtifactRef[] = [], settings: AgentSettings = ALL, isolation?: Isolation): ToolContext {
  return {
    store,
    files: { dependencies: deps, own },
    settings,
    hide: [dir],
    workspaceParent: path.join(dir, 'ws'),
    ...(isolation ? { isolation } : {}),
  };
}

describe('workspace paths', () => {
  test('relative paths are normalised; absolute, home and .. paths are refused with the reason', () => {
    expect(workspacePath('./src//app.js')).toBe('src/app.js');
    expect(() => workspacePath('/etc/passwd')).toThrow(/absolute/);
    expect(() => workspacePath('~/x')).toThrow(/absolute/);
    expect(() => workspacePath('a/../../x')).toThrow(/leaves the workspace/);
    expect(() => workspacePath('')).toThrow(/path is required/);
  });

  test('a symlink out of the workspace is refused; list_files does not follow it', async () => {
    const ws = await materialise(store, { dependencies: deps, own: [] }, path.join(dir, 'ws'));
    try {
      symlinkSync('/etc', path.join(ws.dir, 'escape'));
      await expect(resolveInside(ws.dir, 'escape/passwd')).rejects.toThrow(/outside the workspace/);
      const { files } = await listFiles(ws.dir);
      expect(files.map((f) => f.path).sort()).toEqual(['index.html', 'tests/ok.mjs']);
    } finally {
      await ws.dispose();
    }
    expect(existsSync(ws.dir)).toBe(false);
  });
});

describe('file tools', () => {
  test('read, list and write work on dependency and own files; own files win', async () => {
    const w = await runBuiltInTool(ctx(), 'write_file', JSON.stringify({ path: 'index.html', content: 'mine' }));
    expect(w.isError).toBe(false);
    expect(w.written[0]?.path).toBe('index.html');
    const r = await runBuiltInTool(ctx(w.written), 'read_file', JSON.stringify({ path: 'index.html' }));
    expect(r.content).toBe('mine');
    const l = await runBuiltInTool(ctx(w.written), 'list_files', JSON.stringify({ path: '' }));
    expect(l.content).toBe('index.html (4 bytes)\ntests/ok.mjs (42 bytes)');
  });

  test('paths outside the workspace, bad JSON and disabled tools are tool errors the agent can read', async () => {
    const out = await runBuiltInTool(ctx(), 'read_file', JSON.stringify({ path: '../../etc/passwd' }));
    expect(out).toMatchObject({
      isError: true,
      content: expect.stringMatching(/^ERROR: read_file: .*leaves the workspace/),
    });
    const bad = await runBuiltInTool(ctx(), 'write_file', '{"path": ');
    expect(bad.content).toMatch(/not valid JSON/);
    const off = await runBuiltInTool(ctx([], { tools: ['read_file'] }), 'write_file', '{}');
    expect(off.content).toMatch(/not enabled for this role/);
  });
});

describe('run_command', () => {
  test('this machine has a sandbox (root with unshare, or bubblewrap)', () => {
    expect(ISOLATIONS.length).toBeGreaterThan(0);
  });

  test('commands are parsed without a shell; programs outside the allow-list and shell syntax are refused', () => {
    expect(parseCommand('node "tests/a b.mjs" --x')).toEqual(['node', 'tests/a b.mjs', '--x']);
    expect(() => parseCommand('curl http://example.com')).toThrow(/not an allowed program/);
    expect(() => parseCommand('node a.js; rm -rf /')).toThrow(/shell syntax/);
    expect(() => parseCommand('/bin/sh -c x')).toThrow(/not a path/);
  });

  test('without any isolation, commands are refused instead of run unsandboxed', async () => {
    const ws = mkdtempSync(path.join(dir, 'none-'));
    writeFileSync(path.join(ws, 'x.js'), 'require("fs").writeFileSync("ran", "1")');
    expect(() => runSandboxed({ dir: ws, argv: ['node', 'x.js'], isolation: 'none' })).toThrow(SandboxRefusal);
    expect(existsSync(path.join(ws, 'ran'))).toBe(false);
  });
});

describe.each(ISOLATIONS)('run_command sandbox (%s)', (isolation) => {
  const command = (cmd: string, own: ArtifactRef[] = [], settings: AgentSettings = ALL) =>
    runBuiltInTool(ctx(own, settings, isolation), 'run_command', JSON.stringify({ command: cmd }));

  test('a passing test file runs in the workspace and reports exit code 0 and its output', async () => {
    const out = await command('node tests/ok.mjs');
    expect(out.isError).toBe(false);
    expect(out.exitCode).toBe(0);
    expect(out.content).toMatch(/exit code 0 .*\n[\s\S]*all good/);
    expect(out.outputRef?.path).toBe('tool-output/node.log');
  });

  test('files a command creates are kept; nothing it writes outside the workspace survives', async () => {
    const marker = path.join(os.tmpdir(), `maestro-escape-${process.pid}`);
    const script = await store.put({
      path: 'write.js',
      content: `const fs = require('fs');
fs.writeFileSync('made.txt', 'inside');
for (const p of ['/etc/maestro-escape', ${JSON.stringify(marker)}, '../escape.txt', '${dir}/escape.txt']) {
  try { fs.writeFileSync(p, 'x'); console.log('wrote', p); } catch (e) { console.log('refused', p, e.code); }
}`,
    });
    const out = await command('node write.js', [script]);
    expect(out.exitCode).toBe(0);
    expect(out.content).toMatch(/refused \/etc\/maestro-escape (EACCES|EROFS)/);
    expect(out.written.map((w) => w.path)).toEqual(['made.txt']);
    expect(existsSync('/etc/maestro-escape')).toBe(false);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(dir, 'escape.txt'))).toBe(false);
  });

  test('the network is unreachable from the sandbox', async () => {
    // A real server on the host: reachable from here, not from inside the sandbox.
    const server: Server = createServer((_req, res) => res.end('secret'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const script = await store.put({
        path: 'net.js',
        content: `require('http').get('http://127.0.0.1:${port}/', (r) => { console.log('REACHED', r.statusCode); })
  .on('error', (e) => { console.log('network error', e.code); process.exit(3); });`,
      });
      const out = await command('node net.js', [script]);
      expect(out.content).not.toMatch(/REACHED/);
      expect(out.content).toMatch(/network error (ECONNREFUSED|ENETUNREACH)/);
      expect(out).toMatchObject({ isError: true, exitCode: 3 });
    } finally {
      server.close();
    }
  });

  test('a fork bomb is held by the process limit and killed at the time limit; no process survives', async () => {
    const script = await store.put({
      path: 'bomb.js',
      content: `const { spawn } = require('child_process');
let n = 0, refused = 0;
setInterval(() => {
  for (let i = 0; i < 20; i++) {
    try { spawn('node', ['-e', 'setInterval(() => {}, 1000)', process.argv[2]], { stdio: 'ignore' }).on('error', () => refused++); n++; } catch { refused++; }
  }
  if (n % 100 === 0) console.log('spawned', n, 'refused', refused);
}, 20);`,
    });
    // Each child carries a token of this test, so processes of other users of the machine do not count.
    const token = `maestro-bomb-${process.pid}-${isolation}`;
    const out = await command(`node bomb.js ${token}`, [script], {
      ...ALL,
      limits: { timeoutMs: 4000, maxProcesses: 16 },
    });
    expect(out.isError).toBe(true);
    expect(out.content).toMatch(/STOPPED by the sandbox: time limit of 4000 ms reached/);
    // Every process of the sandbox died with it (its PID namespace is gone).
    await new Promise((r) => setTimeout(r, 500));
    const { execSync } = await import('node:child_process');
    const left = execSync('ps -eo user,args')
      .toString()
      .split('\n')
      .filter((l) => l.includes(token) && !l.includes('ps -eo'));
    expect(left).toEqual([]);
  });

  test('a command past its time limit is stopped and the agent is told', async () => {
    const script = await store.put({ path: 'slow.js', content: 'setTimeout(() => console.log("too late"), 60000);' });
    const started = Date.now();
    const out = await command('node slow.js', [script], { ...ALL, limits: { timeoutMs: 1500 } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out.content).toMatch(/STOPPED by the sandbox: time limit of 1500 ms reached/);
    expect(out.content).not.toMatch(/too late/);
  });

  test('memory beyond the limit fails inside the command', async () => {
    const script = await store.put({
      path: 'mem.js',
      content:
        'const a = []; try { for (;;) a.push(Buffer.alloc(1 << 24, 1)); } catch (e) { console.log("out of memory:", e.message); process.exit(4); }',
    });
    const out = await command('node mem.js', [script], { ...ALL, limits: { memoryMb: 256 } });
    expect(out.content).toMatch(/out of memory|Allocation failed|heap/i);
    expect(out.isError).toBe(true);
  });
});
