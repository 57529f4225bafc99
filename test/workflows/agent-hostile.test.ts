/**
 * An agent loop against a model that answers whatever it likes (the simulated LLM's `tool-calls`
 * fault sends the calls verbatim): a thousand calls in one turn, huge tool results, arguments of
 * every wrong shape and size, and duplicate JSON keys meant to show the approver one command while
 * another runs. The loop must go on with a clear tool error for each bad call, keep its workflow
 * payloads bounded, never fail a workflow task, and show the approver exactly what will run.
 */
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { MaestroClient } from '../../src/client/api';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import type { AgentSettings } from '../../src/shared/tools';
import type { ArtifactRef, RoleInfo, TicketOutput } from '../../src/shared/types';
import type { AgentLoopInput, AgentLoopOutput } from '../../src/workflows/agent-loop';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const { EventType } = temporal.api.enums.v1;
const WORK = { ticketId: 'T1', schemaName: SCHEMA_NAMES.work };

type ScriptedCall = { id?: string; name: string; arguments: string };

/** The next agent turn of T1 answers exactly `calls`. */
function scriptTurn(calls: ScriptedCall[]): void {
  harness.sim.injectFault({ kind: 'tool-calls', toolCalls: calls, match: WORK } as never);
}

/** What a workflow's history shows: failed workflow tasks and activities, and the largest activity input. */
async function historyFacts(client: Client, workflowId: string) {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const inputs = events
    .map((e) => e.activityTaskScheduledEventAttributes?.input?.payloads ?? [])
    .map((ps) => ps.reduce((n, p) => n + (p.data?.length ?? 0), 0));
  return {
    failedTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length,
    failedActivities: events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED).length,
    largestInput: Math.max(0, ...inputs),
  };
}

/** Resolves to the loop's result, or rejects after `ms` with what its history shows (a wedged loop). */
async function resultWithin(client: Client, workflowId: string, ms: number): Promise<AgentLoopOutput> {
  const handle = client.workflow.getHandle(workflowId);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void historyFacts(client, workflowId).then(
        (f) => reject(new Error(`the agent loop did not finish in ${ms} ms: ${JSON.stringify(f)}`)),
        reject,
      );
    }, ms);
  });
  try {
    return (await Promise.race([handle.result(), timeout])) as AgentLoopOutput;
  } finally {
    clearTimeout(timer);
    await handle.terminate('test over').catch(() => undefined);
  }
}

/** A dependency T0 whose files are `files`, stored in `store`. */
async function dependencyWith(
  store: ArtifactStore,
  files: { path: string; content: string }[],
): Promise<TicketOutput[]> {
  const artifacts: ArtifactRef[] = await Promise.all(files.map((f) => store.put(f)));
  return [{ ticketId: 'T0', role: 'researcher', title: 'Notes', summary: 'notes on tea', artifacts }];
}

/** Runs an agent loop of a writer ticket T1 with `settings` over a dependency holding `files`, bounded in time. */
async function runLoop(
  name: string,
  settings: AgentSettings,
  files: { path: string; content: string }[] = [],
  ms = 90_000,
) {
  const taskQueue = uniqueQueue(name);
  const deps = testDeps(harness.sim.baseUrl);
  const dependencies = files.length > 0 ? await dependencyWith(deps.store, files) : [];
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  const workflowId = `${taskQueue}/T1/agent-1`;
  const input: AgentLoopInput = {
    runId: `${taskQueue}-run`,
    ticket: {
      id: 'T1',
      role: 'writer',
      title: 'Write the guide',
      spec: 'Write a short guide to brewing tea. Deliver these files: `docs/tea.md`.',
      acceptanceCriteria: ['docs/tea.md exists'],
      dependsOn: [],
    },
    settings,
    dependencies,
    attempt: 1,
  };
  const result = await worker.runUntil(async () => {
    await harness.conn.client.workflow.start('agentLoopWorkflow', { taskQueue, workflowId, args: [input] });
    return resultWithin(harness.conn.client, workflowId, ms);
  });
  return { result, deps, facts: await historyFacts(harness.conn.client, workflowId) };
}

/** The tool messages of the first request for T1 that carries tool results. */
function toolMessagesSeen(): string[] {
  const turn = harness.sim
    .requests()
    .find((q) => q.ticketId === 'T1' && q.status === 200 && q.messages.some((m) => m.role === 'tool'));
  return (turn?.messages ?? []).filter((m) => m.role === 'tool').map((m) => m.content);
}

beforeEach(() => {
  harness.sim.clearFaults();
  harness.sim.clearRequests();
});

describe('a model asking for too many tool calls, or too much', () => {
  it('1,000 calls in one turn: the first 16 run, every other one gets a tool error naming the limit, the loop goes on', async () => {
    // Each read of this file returns the 8,000 characters shown to the model: 1,000 of them were 8 MB.
    const files = [{ path: 'notes/big.md', content: 'tea leaves '.repeat(5000) }];
    const calls = Array.from({ length: 1000 }, () => ({ name: 'read_file', arguments: '{"path":"notes/big.md"}' }));
    scriptTurn(calls);
    const { result, facts } = await runLoop('agent-flood', { tools: ['read_file', 'write_file'] }, files);
    expect(result.artifacts.map((a) => a.path)).toContain('docs/tea.md');
    expect(facts).toMatchObject({ failedTasks: 0, failedActivities: 0 });
    expect(facts.largestInput).toBeLessThan(200_000);
    const seen = toolMessagesSeen();
    // The model reads an answer to each of its 1,000 calls, in the order it made them.
    expect(seen).toHaveLength(1000);
    expect(seen.slice(0, 16).every((c) => c.startsWith('tea leaves'))).toBe(true);
    expect(seen.slice(16).every((c) => /^ERROR: .*at most 16 tool calls per turn/.test(c))).toBe(true);
    const reads = result.toolCalls.filter((c) => c.tool === 'read_file');
    expect(reads.filter((c) => c.status === 'ok')).toHaveLength(16);
    expect(result.toolCalls.find((c) => /984 tool calls refused/.test(c.summary))).toMatchObject({ status: 'error' });
  });

  it('the per-turn limit is the role setting: with maxToolCallsPerTurn 3, the fourth call of a turn is refused', async () => {
    scriptTurn(Array.from({ length: 5 }, (_, i) => ({ name: 'list_files', arguments: `{"path":"d${i}"}` })));
    const { result } = await runLoop('agent-cap', { tools: ['list_files', 'write_file'], maxToolCallsPerTurn: 3 });
    const seen = toolMessagesSeen();
    expect(seen.slice(0, 3).every((c) => c.startsWith('(no files under d'))).toBe(true);
    expect(seen.slice(3)).toEqual([
      expect.stringMatching(/^ERROR: call 4 of 5 refused: at most 3 tool calls per turn/),
      expect.stringMatching(/^ERROR: call 5 of 5 refused: at most 3 tool calls per turn/),
    ]);
    expect(result.artifacts.map((a) => a.path)).toContain('docs/tea.md');
    // The model was told the limit up front.
    const first = harness.sim.requests().find((q) => q.ticketId === 'T1')!;
    expect(first.messages[0]!.content).toContain('either call tools (at most 3 calls) or give your final answer');
  });

  it('large tool results stay out of the workflow: eight 500 KB files read at once, the model still sees 8,000 characters each', async () => {
    const files = Array.from({ length: 8 }, (_, i) => ({ path: `notes/n${i}.md`, content: `${i}`.repeat(500_000) }));
    scriptTurn(files.map((f) => ({ name: 'read_file', arguments: JSON.stringify({ path: f.path }) })));
    const { result, facts } = await runLoop('agent-big-results', { tools: ['read_file', 'write_file'] }, files);
    expect(result.artifacts.map((a) => a.path)).toContain('docs/tea.md');
    expect(facts).toMatchObject({ failedTasks: 0, failedActivities: 0 });
    const seen = toolMessagesSeen();
    expect(seen).toHaveLength(8);
    seen.forEach((c, i) => expect(c.startsWith(`${i}`.repeat(8000))).toBe(true));
    // 8 x 8,000 characters went to the model; the next turn's input carried references and excerpts.
    expect(facts.largestInput).toBeLessThan(30_000);
  });
});

describe('tool call arguments of every shape', () => {
  it('wrong shapes, huge and deep arguments, bad ids: each is a clear tool error, nothing fails', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const bad: ScriptedCall[] = [
      { name: 'list_files', arguments: '[1,2]' },
      { name: 'list_files', arguments: 'null' },
      { name: 'list_files', arguments: '42' },
      { name: 'list_files', arguments: '"a string"' },
      { name: 'list_files', arguments: '{"path": ' },
      { name: 'read_file', arguments: '{"path": {"nested": [1, {"deeper": null}]}}' },
      { name: 'read_file', arguments: `{"path": ${deep}}` },
      { name: 'write_file', arguments: JSON.stringify({ path: 'x.md', content: 'x'.repeat(3_000_000) }) },
      { name: 'x'.repeat(5000), arguments: '{}' },
      { id: 'same', name: 'list_files', arguments: '{"path":""}' },
      { id: 'same', name: 'list_files', arguments: '{"path":""}' },
    ];
    scriptTurn(bad);
    const { result, facts } = await runLoop('agent-shapes', { tools: ['list_files', 'read_file', 'write_file'] });
    expect(facts).toMatchObject({ failedTasks: 0, failedActivities: 0 });
    expect(facts.largestInput).toBeLessThan(200_000);
    expect(result.artifacts.map((a) => a.path)).toEqual(['docs/tea.md']);
    const seen = toolMessagesSeen();
    expect(seen).toHaveLength(bad.length);
    const errors = seen.slice(0, 10);
    expect(errors.slice(0, 4)).toEqual(
      Array.from({ length: 4 }, () => expect.stringMatching(/^ERROR: list_files: the arguments must be a JSON object/)),
    );
    expect(errors[4]).toMatch(/^ERROR: list_files: the arguments are not valid JSON/);
    expect(errors[5]).toMatch(/^ERROR: read_file: a path is required/);
    expect(errors[6]).toMatch(/^ERROR: read_file: the arguments nest deeper than 64 levels/);
    expect(errors[7]).toMatch(/^ERROR: write_file: the arguments are 3000\d+ bytes; at most 1048576/);
    expect(errors[8]).toMatch(/^ERROR: unknown tool "x{20}.*"/);
    expect(errors[8]!.length).toBeLessThan(1000);
    expect(errors[9]).toMatch(/^\(no files\)/);
    expect(seen[10]).toMatch(/^ERROR: list_files: another call of this turn has the same id "same"/);
  });
});

describe('tool approvals show what will run', () => {
  const roles = (agent: AgentSettings): RoleInfo[] => TEST_ROLES.map((r) => ({ ...r, agent }));

  /** Starts a one-ticket run; resolves with the first pending gate's reason, or undefined when it ended without one. */
  async function firstGate(api: MaestroClient, runId: string, agent: AgentSettings) {
    await api.start('Write a short guide to pruning roses [sim:tickets=1]', { runId, roles: roles(agent) });
    let ended = false;
    const s = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => {
        ended = ['completed', 'stopped', 'failed', 'cancelled'].includes(st.phase);
        return st.pendingGates.length > 0 || ended;
      },
      90_000,
    );
    return s.pendingGates[0];
  }

  it('refuses arguments with a duplicate key before any gate: the hidden second "command" never reaches a person or the sandbox', async () => {
    const taskQueue = uniqueQueue('agent-dupkey');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = `${taskQueue}-run`;
    const spoof = `{"command":"npm test","note":"${'.'.repeat(600)}","command":"node -e process.exit(7)"}`;
    // The same trick one level down, and with an escaped key that decodes to the same name.
    const nested = '{"command":"npm test","opts":{"a":1,"a":2}}';
    const escaped = '{"command":"npm test","\\u0063ommand":"node -e 1"}';
    scriptTurn([spoof, nested, escaped].map((a) => ({ name: 'run_command', arguments: a })));
    await worker.runUntil(async () => {
      const gate = await firstGate(api, runId, {
        tools: ['run_command', 'write_file'],
        approvals: { run_command: 'always' },
      });
      expect(gate?.reason).toBeUndefined();
      const r = await api.result(runId);
      expect(r.gates).toEqual([]);
      expect(r.toolCalls!.filter((c) => c.tool === 'run_command').map((c) => c.status)).toEqual([
        'error',
        'error',
        'error',
      ]);
      const seen = toolMessagesSeen();
      expect(seen[0]).toMatch(/^ERROR: run_command: the arguments have the key "command" twice; send each key once/);
      expect(seen[1]).toMatch(/^ERROR: run_command: the arguments have the key "opts.a" twice/);
      expect(seen[2]).toMatch(/^ERROR: run_command: the arguments have the key "command" twice/);
    });
  });

  it("the gate shows the parsed arguments that will run, the tool's own parameters first, cut with the bytes left out", async () => {
    const taskQueue = uniqueQueue('agent-view');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = `${taskQueue}-run`;
    // Padding before the parameter that matters, whitespace, an escaped character, a right-to-left override.
    const args = `{ "note": "${'x'.repeat(3000)}",\n  "path" : "docs/gu\\u0069de.md", "content": "# Guide \u202e" }`;
    scriptTurn([{ name: 'write_file', arguments: args }]);
    await worker.runUntil(async () => {
      const gate = await firstGate(api, runId, { tools: ['write_file'], approvals: { write_file: 'first-use' } });
      const canonical = JSON.stringify({ path: 'docs/guide.md', content: '# Guide \u202e', note: 'x'.repeat(3000) });
      const shown = /wants to call write_file (.*) \[truncated, (\d+) more bytes\] — approve/.exec(gate!.reason)!;
      expect(shown).not.toBeNull();
      // What is shown is the start of exactly what runs (invisible characters escaped), and the rest is counted.
      const visible = shown[1]!.replace('\\u202e', '\u202e');
      expect(canonical.startsWith(visible)).toBe(true);
      expect(shown[1]).toContain('{"path":"docs/guide.md","content":"# Guide \\u202e","note":"xxx');
      expect(Buffer.byteLength(visible) + Number(shown[2])).toBe(Buffer.byteLength(canonical));
      await api.decide(runId, { decision: 'approve', gate: gate!.id, by: 'ana' });
      const r = await api.result(runId);
      expect(r.toolCalls![0]).toMatchObject({ tool: 'write_file', status: 'ok', summary: 'write_file docs/guide.md' });
      const file = r.manifest.find((m) => m.path === 'docs/guide.md');
      expect(file).toBeDefined();
    });
  });

  it('a short call is shown whole, without a marker', async () => {
    const taskQueue = uniqueQueue('agent-view-short');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = `${taskQueue}-run`;
    scriptTurn([{ name: 'list_files', arguments: '{"path":""}' }]);
    await worker.runUntil(async () => {
      const gate = await firstGate(api, runId, {
        tools: ['list_files', 'write_file'],
        approvals: { list_files: 'always' },
      });
      expect(gate!.reason).toMatch(/^T1 wants to call list_files \{"path":""\} — approve to run it/);
      await api.decide(runId, { decision: 'approve', gate: gate!.id, by: 'ana' });
      expect((await api.result(runId)).status).toBe('completed');
    });
  });
});
