/**
 * `check_page` against hostile pages on the real machine: a page a model wrote opens a WebSocket,
 * a `window.open` popup, a `target=_blank` link, a form posted to a new window, a WebRTC STUN
 * probe and a redirect to a loopback server this test runs; the server must see no connection at
 * all. A check cancelled mid-way (through the activity's cancellation) and a check whose worker
 * is SIGKILLed leave no Chromium process behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { createAgentActivities } from '../../src/activities/agent/agent-activities';
import type { ActivityDeps } from '../../src/activities/deps';
import {
  browserLauncher,
  detectBrowserIsolation,
  type BrowserIsolation,
} from '../../src/activities/tools/browser-jail';
import { runBuiltInTool, type ToolContext } from '../../src/activities/tools/builtin-tools';
import { checkPage } from '../../src/activities/tools/check-page';
import type { AgentSettings } from '../../src/shared/tools';
import type { ArtifactRef } from '../../src/shared/types';

const SETTINGS: AgentSettings = { tools: ['list_files', 'check_page'] };
const ROOT = path.resolve(__dirname, '..', '..');
/** Routing is always there; the namespace where the worker runs as root with unshare (CI does). */
const ISOLATIONS: BrowserIsolation[] =
  detectBrowserIsolation() === 'namespace' ? ['namespace', 'routing'] : ['routing'];

let dir: string;
let store: FsArtifactStore;
let server: Server;
let udp: Socket;
let port: number;
let udpPort: number;
/** Every TCP connection and UDP datagram the host-side servers saw. */
const seen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-page-test-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  server = createServer((req, res) => {
    seen.push(`http ${req.method} ${req.url}`);
    res.end('<title>outside</title>');
  });
  server.on('connection', () => seen.push('tcp connection'));
  server.on('upgrade', (req, socket) => {
    seen.push(`upgrade ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  udp = createSocket('udp4');
  udp.on('message', () => seen.push('udp datagram'));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  udpPort = udp.address().port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  udp.close();
  rmSync(dir, { recursive: true, force: true });
});

function ctx(own: ArtifactRef[], signal?: AbortSignal): ToolContext {
  return {
    store,
    files: { dependencies: [], own },
    settings: SETTINGS,
    // The test's folder holds the workspace and the artifact store, as MAESTRO_HOME may.
    hide: [dir],
    workspaceParent: path.join(dir, 'ws'),
    ...(signal ? { signal } : {}),
  };
}

const page = (body: string) =>
  `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width"><title>hostile</title></head><body><h1>hi</h1>${body}</body></html>`;

/** Chromium processes (pid list) that are descendants of `root`. */
function chromiumDescendants(root: number): number[] {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      parent.set(Number(e), Number(stat.slice(close + 2).split(' ')[1]));
      names.set(Number(e), readFileSync(`/proc/${e}/cmdline`, 'utf8'));
    } catch {
      // gone meanwhile
    }
  }
  const isUnder = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, cmd]) => /chrom/i.test(cmd) && isUnder(pid)).map(([pid]) => pid);
}

/** A process's command name ('' once it is gone). */
function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

const alive = (pids: number[]) => pids.filter((p) => existsSync(`/proc/${p}`));

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(ISOLATIONS)('check_page reaches no network (%s)', (isolation) => {
  const cases: [string, () => string][] = [
    ['a WebSocket', () => `<script>new WebSocket('ws://127.0.0.1:${port}/ws')</script>`],
    ['a window.open popup', () => `<script>window.open('http://127.0.0.1:${port}/popup')</script>`],
    [
      'a target=_blank link click',
      () =>
        `<a id="l" target="_blank" href="http://127.0.0.1:${port}/blank">x</a><script>document.getElementById('l').click()</script>`,
    ],
    [
      'a form posted to a new window',
      () =>
        `<form id="f" method="post" target="_blank" action="http://127.0.0.1:${port}/form"><input name="a" value="b"></form><script>document.getElementById('f').submit()</script>`,
    ],
    [
      'a WebRTC STUN probe',
      () =>
        `<script>const pc = new RTCPeerConnection({ iceServers: [{ urls: 'stun:127.0.0.1:${udpPort}' }] }); pc.createDataChannel('x'); pc.createOffer().then((o) => pc.setLocalDescription(o));</script>`,
    ],
    ['a redirect of the page itself', () => `<script>location.href = 'http://127.0.0.1:${port}/away'</script>`],
    [
      'fetch, beacon, image, iframe and prefetch',
      () =>
        `<link rel="prefetch" href="http://127.0.0.1:${port}/pre"><img alt="" src="http://127.0.0.1:${port}/img"><iframe src="http://127.0.0.1:${port}/frame"></iframe><script>fetch('http://127.0.0.1:${port}/fetch').catch(() => {}); navigator.sendBeacon('http://127.0.0.1:${port}/beacon', 'x')</script>`,
    ],
  ];

  test.each(cases)('%s does not reach the host', async (_name, body) => {
    seen.length = 0;
    const ws = mkdtempSync(path.join(dir, 'net-'));
    chmodSync(ws, 0o755); // as materialise leaves a workspace: readable by the browser's user
    writeFileSync(path.join(ws, 'index.html'), page(body()));
    const report = await checkPage({ dir: ws, page: path.join(ws, 'index.html'), isolation });
    expect(report.text).toMatch(/^page: index\.html/);
    // Anything late (a popup, an ICE retry) has had time to arrive.
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen).toEqual([]);
  });
});

test('through the tool, with the folder that holds the workspace hidden, the report names what was blocked', async () => {
  seen.length = 0;
  const ref = await store.put({
    path: 'index.html',
    content: page(
      `<script>new WebSocket('ws://127.0.0.1:${port}/ws'); window.open('http://127.0.0.1:${port}/popup')</script>`,
    ),
  });
  const out = await runBuiltInTool(ctx([ref]), 'check_page', JSON.stringify({ page: 'index.html' }));
  expect(out.content).toMatch(/^page: index\.html\ntitle: hostile/);
  expect(out.content).toContain(`- blocked WebSocket: ws://127.0.0.1:${port}/ws (page checks have no network)`);
  expect(out.content).toContain(`- failed request: http://127.0.0.1:${port}/popup (net::ERR_BLOCKED_BY_CLIENT)`);
  expect(out.content).toMatch(/- blocked a new window \(window\.open or target=_blank\)/);
  expect(out.isError).toBe(true);
  expect(seen).toEqual([]);
});

(ISOLATIONS.includes('namespace') ? test : test.skip)(
  'in its namespace the browser runs as nobody, sees the workspace but not hidden folders (spaces too), and has no network',
  () => {
    const secret = path.join(dir, 'home of maestro@x+y');
    mkdirSync(secret, { recursive: true });
    writeFileSync(path.join(secret, 'key'), 'secret');
    const ws = mkdtempSync(path.join(secret, 'ws-'));
    chmodSync(ws, 0o755);
    writeFileSync(path.join(ws, 'index.html'), 'page', { mode: 0o644 });
    // The launcher starts any program the way it starts Chromium: a shell stands in for it here.
    const launcher = browserLauncher({ exe: '/bin/sh', workspace: ws, hide: [secret], isolation: 'namespace' });
    try {
      const probe = [
        'id -u',
        `cat ${JSON.stringify(path.join(ws, 'index.html'))}`,
        `ls -A ${JSON.stringify(secret)} | grep -c key || true`,
        'find /root /home -mindepth 1 | wc -l',
        // The network namespace has its own loopback and no other interface.
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
      ].join('; echo; ');
      const out = spawnSync(launcher.path, ['-c', probe], { encoding: 'utf8', timeout: 30_000 });
      expect(out.stderr).toBe('');
      expect(out.stdout.split('\n').filter((l) => l !== '')).toEqual(['65534', 'page', '0', '0', 'lo']);
    } finally {
      launcher.dispose();
    }
  },
);

describe('check_page leaves no browser behind', () => {
  const hanging = page(`<script>while (true) {}</script>`);

  test('cancelling the activity mid-check ends it at once and kills every Chromium process', async () => {
    const ref = await store.put({ path: 'index.html', content: hanging });
    const deps = { store, sandboxHide: [], roles: [] } as unknown as ActivityDeps;
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 });
    const activities = createAgentActivities(deps);
    const started = Date.now();
    const running = env.run(activities.agentTool, {
      runId: 'r',
      ticketId: 'T1',
      role: 'tester',
      turn: 1,
      call: { id: 'c1', name: 'check_page', arguments: JSON.stringify({ page: 'index.html' }) },
      settings: SETTINGS,
      dependencies: [],
      own: [ref],
    });
    const pids = await waitFor(() => {
      const p = chromiumDescendants(process.pid);
      return p.some((x) => comm(x) === 'chromium') ? p : undefined;
    }, 20_000);
    // In its namespace the browser runs as nobody, never as the worker's root.
    if (detectBrowserIsolation() === 'namespace') {
      const browsers = pids.filter((p) => comm(p) === 'chromium');
      expect(browsers.length).toBeGreaterThan(0);
      for (const p of browsers) expect(readFileSync(`/proc/${p}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
    }
    env.cancel();
    await expect(running).rejects.toThrow(/cancel/i);
    expect(Date.now() - started).toBeLessThan(14_000);
    await waitFor(() => (alive(pids).length === 0 ? true : undefined), 3_000).catch(() => undefined);
    expect(alive(pids)).toEqual([]);
  });

  test('a worker killed with SIGKILL mid-check takes its Chromium with it', async () => {
    const ws = mkdtempSync(path.join(dir, 'kill-'));
    writeFileSync(path.join(ws, 'index.html'), hanging);
    const script = path.join(dir, 'check.ts');
    writeFileSync(
      script,
      `import { checkPage } from ${JSON.stringify(path.join(ROOT, 'src/activities/tools/check-page'))};
checkPage({ dir: ${JSON.stringify(ws)}, page: ${JSON.stringify(path.join(ws, 'index.html'))}, timeoutMs: 60000 }).catch(() => {});
setInterval(() => {}, 1000);`,
    );
    const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [script], { stdio: 'ignore' });
    try {
      const pids = await waitFor(() => {
        const p = chromiumDescendants(child.pid!);
        return p.length >= 2 ? p : undefined;
      }, 30_000);
      // tsx runs the script in a node child of its own: kill both, as an OOM kill or a crash would.
      for (const p of workerPids(child.pid!)) process.kill(p, 'SIGKILL');
      await waitFor(() => (alive(pids).length === 0 ? true : undefined), 5_000).catch(() => undefined);
      expect(alive(pids)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/** The node processes of the tsx launcher (the launcher and its node child), not the browser. */
function workerPids(root: number): number[] {
  const out = [root];
  for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (Number(fields[1]) === root && /node/.test(cmd) && !/chrom/i.test(cmd)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}
