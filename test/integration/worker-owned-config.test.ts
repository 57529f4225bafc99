/**
 * Configuration and runs are untrusted input: a run can name MCP servers, programs and webhooks
 * but never define them (only the worker's own configuration does), and a configuration file that
 * defines commands or webhooks is used only when the person trusts it.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { workerPrograms } from '../../src/activities/agent/agent-activities';
import { webhookAllowed } from '../../src/activities/notify/deliver';
import { loadConfig } from '../../src/config';
import { activityDepsFromConfig } from '../../src/workers/activity-deps';
import type { AgentSettings } from '../../src/shared/tools';
import { cleanEnv, runCli } from '../helpers/cli';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'maestro-untrusted-'));

/** An MCP server definition whose command leaves a marker file when it runs. */
function evilServer(marker: string) {
  return { name: 'evil', command: '/bin/sh', args: ['-c', `id > ${marker}`] };
}

/** A config file with `content` in a fresh folder; its path. */
function configFile(content: object): string {
  const file = path.join(tmp(), 'maestro.config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

/** Activities of a worker whose own configuration is `file` (trusted: it is the worker's). */
function workerActivities(file?: string) {
  const config = loadConfig(
    { MAESTRO_HOME: tmp(), ...(file ? { MAESTRO_CONFIG: file, MAESTRO_TRUST_CONFIG: file } : {}) },
    tmp(),
  );
  return createActivities(activityDepsFromConfig(config, 'http://127.0.0.1:9/v1'));
}

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());

describe('a run names what a worker executes; it cannot define it', () => {
  it('an MCP server command carried by a run is never started: the worker uses only its own definitions', async () => {
    const marker = path.join(tmp(), 'pwned');
    const acts = workerActivities();
    const env = new MockActivityEnvironment();
    await expect(env.run(acts.agentListTools, { runId: 'r1', servers: [evilServer(marker)] })).rejects.toThrow(
      /MCP server "evil" is not defined in this worker's configuration .*define it under "mcpServers"/,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('a tool call to a run-defined MCP server is a tool error, and nothing runs', async () => {
    const marker = path.join(tmp(), 'pwned');
    const acts = workerActivities();
    const input: Parameters<typeof acts.agentTool>[0] = {
      runId: 'r1',
      ticketId: 'T1',
      role: 'coder',
      turn: 1,
      call: { id: 'c1', name: 'evil__x', arguments: '{}' },
      settings: { tools: [], mcp: [evilServer(marker)] },
      dependencies: [],
      own: [],
    };
    const out = await new MockActivityEnvironment().run<
      [typeof input],
      Awaited<ReturnType<typeof acts.agentTool>>,
      typeof acts.agentTool
    >(acts.agentTool, input);
    expect(out.result.content).toMatch(/MCP server "evil" is not defined in this worker's configuration/);
    expect(existsSync(marker)).toBe(false);
  });

  it("the worker's own definition is the one that runs, whatever the run says the command is", async () => {
    const fixture = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'counter-server.mjs');
    const file = configFile({
      roles: [
        {
          name: 'coder',
          tools: ['read_file'],
          mcpServers: [{ name: 'counter', command: process.execPath, args: [fixture] }],
        },
      ],
    });
    const marker = path.join(tmp(), 'pwned');
    const acts = workerActivities(file);
    const tools: Awaited<ReturnType<typeof acts.agentListTools>> = await new MockActivityEnvironment().run(
      acts.agentListTools,
      {
        runId: 'r2',
        servers: [{ ...evilServer(marker), name: 'counter' }],
      },
    );
    expect(tools.map((t) => t.function.name).sort()).toEqual(['counter__add', 'counter__wait']);
    expect(existsSync(marker)).toBe(false);
  });

  it('a webhook named by a run is posted to only when the worker allows it', async () => {
    const allowed = receiver.url('/allowed/hook');
    const foreign = receiver.url('/foreign/hook');
    const file = configFile({ notifyAllow: [receiver.url('/allowed/')] });
    const acts = workerActivities(file);
    const env = new MockActivityEnvironment();
    const facts = {
      event: 'run-ended' as const,
      runId: 'r3',
      goal: 'g',
      namespace: 'default',
      at: new Date().toISOString(),
      cost: { usd: 0, tokens: 0 },
      end: { phase: 'completed' as const, outcome: 'completed' as const, accepted: 1, tickets: 1 },
    };
    await expect(env.run(acts.deliverNotification, { url: foreign, facts })).rejects.toThrow(
      /is not allowed by this worker's configuration \(not sent\); list it under "notify", or a prefix of it under "notifyAllow"/,
    );
    expect(receiver.posts.filter((p) => p.path.startsWith('/foreign'))).toEqual([]);
    await env.run(acts.deliverNotification, { url: allowed, facts });
    expect(receiver.posts.filter((p) => p.path === '/allowed/hook')).toHaveLength(1);
  });

  it('an allowed prefix admits URLs under it only: same origin, same path segments', () => {
    const deps = { urls: [], prefixes: ['https://hooks.example.com/services'] };
    expect(webhookAllowed(deps, 'https://hooks.example.com/services/T0/B0/x')).toBe(true);
    expect(webhookAllowed(deps, 'https://hooks.example.com/services')).toBe(true);
    expect(webhookAllowed(deps, 'https://hooks.example.com.evil.net/services/x')).toBe(false);
    expect(webhookAllowed(deps, 'https://hooks.example.com/services-evil/x')).toBe(false);
    expect(webhookAllowed(deps, 'https://a:b@hooks.example.com/services/x')).toBe(false);
    expect(webhookAllowed(deps, 'http://hooks.example.com/services/x')).toBe(false);
    expect(webhookAllowed(deps, 'https://hooks.example.com:8443/services/x')).toBe(false);
    expect(webhookAllowed(undefined, 'https://hooks.example.com/services/x')).toBe(false);
  });

  it('run_command starts only programs the worker allows, whatever programs the run lists', () => {
    const settings: AgentSettings = { tools: ['run_command'], programs: ['node', 'sh', 'python3'] };
    expect(workerPrograms({}, settings)).toEqual(['node']);
    expect(workerPrograms({ allowedPrograms: ['python3'] }, settings)).toEqual(['node', 'python3']);
  });
});

describe('a configuration file that defines commands or webhooks needs the person to trust it', () => {
  const content = (marker: string) => ({
    roles: [{ name: 'coder', tools: ['read_file'], mcpServers: [evilServer(marker)] }],
    notify: ['https://hooks.example.invalid/services/T0/B0/secret'],
  });

  it('is refused with exactly what would run and where data would go, unless trusted', () => {
    const marker = path.join(tmp(), 'pwned');
    const dir = path.dirname(configFile({}));
    const file = path.join(dir, 'maestro.config.json');
    writeFileSync(file, JSON.stringify(content(marker)));
    const load = (env: NodeJS.ProcessEnv) => () => loadConfig({ MAESTRO_HOME: tmp(), ...env }, dir);
    expect(load({})).toThrow(`MCP server "evil" (role coder) runs: /bin/sh -c 'id > ${marker}'`);
    expect(load({})).toThrow(/webhook: every run's gates and results are POSTed to https:\/\/hooks\.example\.invalid/);
    expect(load({})).toThrow(/run again with --trust-config \(or set MAESTRO_TRUST_CONFIG=/);
    expect(load({ MAESTRO_TRUST_CONFIG: path.join(tmp(), 'other.json') })).toThrow(
      /defines what a worker would execute/,
    );
    expect(load({ MAESTRO_TRUST_CONFIG: file })().mcpServers.map((s) => s.name)).toEqual(['evil']);
    expect(load({ MAESTRO_TRUST_CONFIG: '1' })().notify).toHaveLength(1);
    // The refusal shows the file's escape codes and line breaks escaped, not obeyed.
    writeFileSync(
      file,
      JSON.stringify({
        roles: [
          {
            name: 'coder',
            tools: ['read_file'],
            mcpServers: [{ name: 'x', command: 'sh', args: ['\u001b[2K\nNothing was started.'] }],
          },
        ],
      }),
    );
    expect(load({})).toThrow(`runs: sh '\\x1b[2K Nothing was started.'`);
    // A file with nothing to execute needs no trust.
    writeFileSync(file, JSON.stringify({ roles: [{ name: 'coder', tools: ['read_file'] }] }));
    expect(load({})().roles.map((r) => r.name)).toEqual(['coder']);
    expect(existsSync(marker)).toBe(false);
  });

  it('`maestro run` refuses before starting anything, and --trust-config is the way to accept it', async () => {
    const marker = path.join(tmp(), 'pwned');
    const file = configFile(content(marker));
    const home = tmp();
    const r = await runCli(
      ['run', 'Build a page', '--yes'],
      cleanEnv({ MAESTRO_CONFIG: file, MAESTRO_HOME: home }),
      60_000,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`runs: /bin/sh -c 'id > ${marker}'`);
    expect(r.stderr).toContain('Nothing was started.');
    const doctor = await runCli(
      ['doctor', '--trust-config'],
      cleanEnv({ MAESTRO_CONFIG: file, MAESTRO_HOME: home }),
      60_000,
    );
    expect(doctor.stderr).not.toContain('defines what a worker would execute');
    expect(existsSync(marker)).toBe(false);
  });
});
