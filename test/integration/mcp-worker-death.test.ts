/**
 * A worker SIGKILLed while a stdio MCP server is connecting (one that never answers and has started
 * children, as `npx some-server` starts `node`) leaves no process of that server behind.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const HOLDER = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'hold-mcp.ts');

/** Host pids of processes whose command line holds `token` (the server passes it to its children). */
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

/** Pids whose parent is one of `parents` (the server's children do not carry the token). */
function childrenOf(parents: number[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (parents.includes(ppid)) out.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
};

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const linux = process.platform === 'linux' ? test : test.skip;

linux(
  'a SIGKILLed worker takes a connecting stdio MCP server and the processes it started with it',
  async () => {
    const token = `maestro-mcp-hold-${process.pid}-${Date.now()}`;
    const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, token], { stdio: 'ignore' });
    let server: number[] = [];
    let children: number[] = [];
    try {
      await waitFor(
        'the server and its two children',
        () => {
          server = processesWith(token).filter((p) => p !== holder.pid);
          children = childrenOf(server);
          return children.length >= 2;
        },
        30_000,
      );
      holder.kill('SIGKILL');
      await waitFor(
        `the server's processes to end (left: ${[...server, ...children].filter(alive).join(', ')})`,
        () => [...server, ...children].every((p) => !alive(p)),
        5_000,
      );
    } finally {
      holder.kill('SIGKILL');
      for (const pid of [...server, ...children].filter(alive)) process.kill(pid, 'SIGKILL');
    }
  },
  60_000,
);
