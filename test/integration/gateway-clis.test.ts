/**
 * Real coding-agent CLIs that nobody here wrote, driven through the gateway against the simulated
 * LLM, only to prove the wire formats (running CLIs as activities is the executor's): Codex over
 * the Responses API and Claude Code over Anthropic Messages each write a file with their own tool,
 * the gateway's bill equals the simulator's count, the request log rebuilds what the provider was
 * sent, and a budget of one call stops each CLI at once. The CLIs are installed (from their
 * registries) under .maestro/agent-clis; without them these tests are skipped and say so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { readRequestLog, startGateway, type Gateway } from '../../src/gateway';
import { FORWARDER_SOURCE, type ForwarderLaunch } from '../../src/activities/executor/bridge';
import { simTotals } from '../helpers/gateway-client';

const BIN = resolve(
  process.env.MAESTRO_AGENT_CLIS ?? join(__dirname, '../../.maestro/agent-clis'),
  'node_modules/.bin',
);
const has = (cli: string) => existsSync(join(BIN, cli));
if (!has('codex') || !has('claude'))
  console.warn(`gateway-clis: CLIs not installed under ${BIN}; skipping the missing ones`);

let sim: SimLlm;
let root: string;
beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  root = mkdtempSync(join(tmpdir(), 'maestro-gw-cli-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  sim.clearRequests();
  sim.clearFaults();
});

interface Ran {
  code: number | null;
  stdout: string;
  ms: number;
  ws: string;
  gw: Gateway;
  logFile: string;
}

/** Whether this machine can make a network namespace (root, or user namespaces allowed). */
const netns = spawnSync('unshare', ['-n', '--fork', 'true']).status === 0;

/**
 * Runs one CLI headless in a fresh space with a clean environment, pointed at a fresh gateway.
 * `isolated`: the CLI runs in a network namespace with only loopback, and reaches the gateway
 * through its Unix socket and the executor's forwarder started inside, as in the sandbox.
 */
async function run(cli: 'codex' | 'claude', permits: number, isolated = false): Promise<Ran> {
  const space = mkdtempSync(join(root, `${cli}-`));
  const ws = join(space, 'ws');
  const home = join(space, 'home');
  mkdirSync(ws);
  mkdirSync(join(home, 'codex'), { recursive: true });
  const logFile = join(space, 'requests.jsonl');
  const gw = await startGateway({
    llm: { baseUrl: sim.baseUrl, apiKey: 'sim', timeoutMs: 20_000 },
    model: 'maestro-sim',
    meta: { kind: 'work', role: 'coder', ticketId: 'T1', attempt: 1 },
    permits,
    wallMs: 120_000,
    requestLog: logFile,
    ...(isolated ? { tcp: false, socketPath: join(space, 'gateway.sock') } : {}),
  });
  // Isolated: the executor's forwarder fills in the loopback port it listens on.
  const url = isolated ? 'http://127.0.0.1:{{PORT}}' : gw.url!;
  const base = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
  const [args, env] =
    cli === 'codex'
      ? [
          [
            'exec',
            '--json',
            '--skip-git-repo-check',
            '--dangerously-bypass-approvals-and-sandbox',
            ...['-c', 'model_provider=maestro', '-c', 'model_providers.maestro.name=maestro'],
            ...['-c', `model_providers.maestro.base_url=${url}/v1`, '-c', 'model_providers.maestro.wire_api=responses'],
            ...['-c', 'model_providers.maestro.env_key=MAESTRO_GATEWAY_KEY', '-m', 'gpt-5-codex'],
            'Write hello.txt',
          ],
          { ...base, CODEX_HOME: join(home, 'codex'), MAESTRO_GATEWAY_KEY: gw.token },
        ]
      : [
          ['-p', 'Write hello.txt', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'],
          {
            ...base,
            IS_SANDBOX: '1',
            ANTHROPIC_BASE_URL: url,
            ANTHROPIC_API_KEY: gw.token,
            DISABLE_TELEMETRY: '1',
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
            DISABLE_AUTOUPDATER: '1',
            CLAUDE_CODE_MAX_RETRIES: '1',
            API_TIMEOUT_MS: '30000',
          },
        ];
  const t0 = Date.now();
  // Inside the namespace: loopback up, then the executor's forwarder (run-cli.ts), which listens
  // there and starts the CLI with its port filled in; the CLI's stdout goes to `events`.
  const events = join(space, 'events.jsonl');
  if (isolated) {
    const launch: ForwarderLaunch = {
      socket: gw.socketPath!,
      cwd: ws,
      argv: [join(BIN, cli), ...args],
      env,
      events,
      stderr: join(space, 'stderr.log'),
    };
    writeFileSync(join(space, 'forwarder.cjs'), FORWARDER_SOURCE);
    writeFileSync(join(space, 'launch.json'), JSON.stringify(launch));
  }
  const inside = ['ip link set lo up 2>/dev/null || true', 'exec "$NODE" "$SPACE/forwarder.cjs"'].join('\n');
  const [cmd, argv] = isolated
    ? ['unshare', ['-n', '--fork', '--kill-child', 'bash', '-c', inside]]
    : [join(BIN, cli), args];
  const child = spawn(cmd, argv, {
    cwd: ws,
    env: isolated ? { PATH: base.PATH, NODE: process.execPath, SPACE: space } : env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.resume();
  const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
  const closed = new Promise((done) => child.on('close', done));
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  try {
    process.kill(-child.pid!, 'SIGKILL'); // what is left of its group (the forwarder)
  } catch {
    // the group is gone already
  }
  await closed; // all of its output read
  if (isolated) stdout = readFileSync(events, 'utf8');
  clearTimeout(killer);
  await gw.close();
  return { code, stdout, ms: Date.now() - t0, ws, gw, logFile };
}

const cases = [
  { cli: 'codex' as const, tool: 'exec_command', args: { cmd: 'printf hi > hello.txt' }, format: 'responses' },
  { cli: 'claude' as const, tool: 'Write', args: { file_path: 'hello.txt', content: 'hi' }, format: 'anthropic' },
];

describe.each(cases)('$cli through the gateway', ({ cli, tool, args, format }) => {
  const maybe = has(cli) ? test : test.skip;

  maybe(
    'edits a file with its own tool; the bill equals the simulator count; the log holds what it was sent',
    async () => {
      sim.injectFault({
        kind: 'tool-calls',
        toolCalls: [{ id: 'call_write_1', name: tool, arguments: JSON.stringify(args) }],
      });
      const r = await run(cli, 10);
      expect(r.code).toBe(0);
      expect(readFileSync(join(r.ws, 'hello.txt'), 'utf8').trim()).toBe('hi');
      const bill = r.gw.ledger();
      const sims = simTotals(sim.requests());
      expect(sims.calls).toBeGreaterThanOrEqual(2); // the tool call, then the answer after its result
      expect(bill.usage).toMatchObject({
        calls: sims.calls,
        promptTokens: sims.prompt,
        completionTokens: sims.completion,
        cachedTokens: sims.cached,
      });
      expect(bill.calls.every((c) => !c.error)).toBe(true);
      const second = sim.requests()[1]!.messages;
      expect(second.some((m) => m.role === 'tool')).toBe(true);
      const log = readRequestLog(r.logFile);
      expect(log.requests.map((q) => q.format)).toEqual(sim.requests().map(() => format));
      expect(log.requests.map((q) => q.messages.map(({ role, content }) => ({ role, content })))).toEqual(
        sim.requests().map((q) => q.messages),
      );
    },
    120_000,
  );

  maybe(
    'stops at once when its budget of one call is used up',
    async () => {
      sim.injectFault({
        kind: 'tool-calls',
        toolCalls: [{ id: 'call_write_1', name: tool, arguments: JSON.stringify(args) }],
      });
      const r = await run(cli, 1);
      expect(r.code).not.toBe(0);
      expect(r.ms).toBeLessThan(60_000);
      expect(r.stdout).toContain("the run's budget allowed");
      expect(existsSync(join(r.ws, 'hello.txt'))).toBe(true); // the one permitted call's tool ran
      expect(sim.requests()).toHaveLength(1);
      const bill = r.gw.ledger();
      expect(bill).toMatchObject({ permitsUsed: 1, stopped: { reason: 'permits' } });
      expect(bill.requests.refused).toBeGreaterThanOrEqual(1);
      expect(bill.requests.refused).toBeLessThanOrEqual(10); // the CLI does not retry without end
    },
    120_000,
  );
});

const isolatedTest = has('claude') && netns ? test : test.skip;
isolatedTest(
  'claude in a network namespace with only loopback reaches the gateway through its socket and the forwarder, and nothing else',
  async () => {
    sim.injectFault({
      kind: 'tool-calls',
      toolCalls: [
        { id: 'call_write_1', name: 'Write', arguments: JSON.stringify({ file_path: 'hello.txt', content: 'hi' }) },
      ],
    });
    const r = await run('claude', 10, true);
    expect(r.code).toBe(0);
    expect(readFileSync(join(r.ws, 'hello.txt'), 'utf8')).toBe('hi');
    expect(r.gw.url).toBeUndefined();
    expect(r.gw.ledger().calls.length).toBe(simTotals(sim.requests()).calls);
    expect(r.gw.ledger().calls.length).toBeGreaterThanOrEqual(2);
  },
  120_000,
);
