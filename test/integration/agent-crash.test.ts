/**
 * Crash survival of agent loops: the worker runs as its own process and is SIGKILLed while an
 * agent's tool call (a real MCP server's tool) is running, and while an agent's LLM turn is in
 * flight; a new worker finishes the run. The MCP server's side-effect counter proves no completed
 * tool call ran twice, and the simulated LLM's request log proves no completed turn was repeated.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MaestroClient } from '../../src/client/api';
import { startSimLlm, type SimLlm, type SimRequestRecord } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { AgentSettings } from '../../src/shared/tools';
import { testAddress, uniqueQueue, TEST_ROLES } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const MCP_SERVER = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'counter-server.mjs');
const GOAL = 'Write a short guide to brewing tea [sim:tickets=1]';

let sim: SimLlm;
let connection: Connection;
let client: Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  connection = await Connection.connect({ address: testAddress() });
  client = new Client({ connection });
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await connection?.close();
  await sim?.close();
});

function setup(name: string, waitMs: number) {
  const taskQueue = uniqueQueue(name);
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-agent-crash-'));
  const counter = path.join(home, 'mcp-calls.log');
  // The MCP server is defined by the worker's own (trusted) configuration; the run only names it.
  const config = path.join(home, 'maestro.config.json');
  const server = {
    name: 'counter',
    command: process.execPath,
    args: [MCP_SERVER],
    env: { MCP_COUNTER_FILE: counter, MCP_WAIT_MS: String(waitMs) },
  };
  const agent: AgentSettings = { tools: ['list_files', 'write_file'], mcp: [{ name: 'counter' }] };
  const fileRoles = TEST_ROLES.map((r) => ({ name: r.name, tools: agent.tools, mcpServers: [server] }));
  writeFileSync(config, JSON.stringify({ roles: fileRoles }));
  const env = {
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: home,
    MAESTRO_CONFIG: config,
    MAESTRO_TRUST_CONFIG: config,
  };
  const roles = TEST_ROLES.map((r) => ({ ...r, agent }));
  const lines = () => (existsSync(counter) ? readFileSync(counter, 'utf8').trim().split('\n') : []);
  return { taskQueue, env, roles, lines, api: new MaestroClient(client, taskQueue) };
}

async function worker(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const w = await spawnWorker(env);
  workers.push(w);
  return w;
}

const key = (r: SimRequestRecord) => JSON.stringify([r.schemaName, r.messages]);

/** Completed LLM calls made more than once must all have been in flight when the worker died. */
function repeatedCompletedCalls(log: SimRequestRecord[], inFlightAtKill: SimRequestRecord[]): string[] {
  const allowed = new Set(inFlightAtKill.map(key));
  const completed = new Map<string, number>();
  for (const r of log.filter((q) => q.status === 200)) completed.set(key(r), (completed.get(key(r)) ?? 0) + 1);
  return [...completed].filter(([k, n]) => n > 1 && !allowed.has(k)).map(([k]) => k);
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killAndSnapshot(w: WorkerProcess): Promise<SimRequestRecord[]> {
  await w.kill();
  await new Promise((r) => setTimeout(r, 200));
  return sim.requests().filter((r) => r.status === 0 || r.status === 499);
}

describe('a SIGKILLed worker in the middle of an agent loop', () => {
  it('during a tool call: the run finishes and no completed tool call ran twice', async () => {
    sim.clearRequests();
    const t = setup('agent-crash-tool', 3000);
    const w1 = await worker(t.env);
    const runId = await t.api.start(GOAL, { runId: `${t.taskQueue}-run`, roles: t.roles });
    // The agent calls counter__add, then counter__wait; kill while `wait` runs.
    await waitFor('the wait tool to start', () => t.lines().some((l) => l.startsWith('wait-start')));
    const inFlight = await killAndSnapshot(w1);
    expect(t.lines().filter((l) => l.startsWith('add'))).toHaveLength(1);
    await worker(t.env);
    const r = await t.api.result(runId);
    expect(r.status).toBe('completed');
    // `add` completed before the kill: it never ran again. `wait` was cut off and ran again.
    expect(t.lines().filter((l) => l.startsWith('add'))).toHaveLength(1);
    expect(t.lines().filter((l) => l.startsWith('wait-start')).length).toBeGreaterThanOrEqual(2);
    const tools = (r.toolCalls ?? []).map((c) => `${c.tool} ${c.status}`);
    expect(tools).toEqual(['list_files ok', 'counter__add ok', 'counter__wait ok', 'write_file ok']);
    expect(repeatedCompletedCalls(sim.requests(), inFlight)).toEqual([]);
  }, 150_000);

  it('during an LLM turn: the run finishes and no completed LLM call was repeated', async () => {
    sim.clearRequests();
    const t = setup('agent-crash-turn', 0);
    // Turns 1 and 2 answer slowly; the worker dies while turn 2 (with tool results) is in flight.
    sim.injectFault({ kind: 'latency', latencyMs: 2500, times: 2, match: { schemaName: SCHEMA_NAMES.work } });
    const w1 = await worker(t.env);
    const runId = await t.api.start(GOAL, { runId: `${t.taskQueue}-run`, roles: t.roles });
    await waitFor('turn 2 in flight', () =>
      sim
        .requests()
        .some((q) => q.status === 0 && q.schemaName === SCHEMA_NAMES.work && q.messages.some((m) => m.role === 'tool')),
    );
    const inFlight = await killAndSnapshot(w1);
    expect(inFlight).toHaveLength(1);
    await worker(t.env);
    const r = await t.api.result(runId);
    expect(r.status).toBe('completed');
    expect(repeatedCompletedCalls(sim.requests(), inFlight)).toEqual([]);
    // Turn 1 was completed before the kill and was not asked again.
    const firstTurns = sim
      .requests()
      .filter(
        (q) => q.schemaName === SCHEMA_NAMES.work && q.status === 200 && !q.messages.some((m) => m.role === 'tool'),
      );
    expect(firstTurns).toHaveLength(1);
    expect(t.lines().filter((l) => l.startsWith('add'))).toHaveLength(1);
  }, 150_000);
});
