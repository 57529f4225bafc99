/**
 * Agent loops on the suite's Temporal dev server with the real activities, the real sandbox,
 * real Chromium and the simulated LLM speaking OpenAI's `tools`/`tool_calls` format: a website
 * run whose Coder and Tester are agents (a failing page check is fixed by the Coder, the Tester
 * runs the test file and the page check, the report quotes the results), context hygiene on every
 * tool turn, the turn budget, and continue-as-new of a long loop.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { AgentSettings } from '../../src/shared/tools';
import type { RoleInfo, RunInput, RunResult, TicketInput, TicketOutcome } from '../../src/shared/types';
import { temporal } from '@temporalio/proto';
import { MaestroClient } from '../../src/client/api';
import type { AgentLoopInput, AgentLoopOutput } from '../../src/workflows/agent-loop';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });

const AGENT: AgentSettings = { tools: ['list_files', 'read_file', 'write_file', 'run_command', 'check_page'] };
const agentRoles = (agent: AgentSettings = AGENT): RoleInfo[] =>
  TEST_ROLES.map((r) => (r.name === 'coder' || r.name === 'tester' ? { ...r, agent } : r));

async function runGoal(name: string, input: Partial<RunInput> & { goal: string }) {
  const taskQueue = uniqueQueue(name);
  const deps = testDeps(harness.sim.baseUrl);
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  const runId = `${taskQueue}-run`;
  const result = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [{ roles: agentRoles(), ...input }],
    });
    return (await handle.result()) as RunResult;
  });
  return { runId, deps, result };
}

describe('agent loops', () => {
  it('runs the Coder and Tester as agents: a failing check is fixed, the tests run, the report quotes them', async () => {
    harness.sim.clearRequests();
    const goal = 'Build a landing page for a tea room called Leaf Lounge';
    const { runId, deps, result } = await runGoal('agent-website', { goal });
    expect(result.status).toBe('completed');
    const tools = result.toolCalls ?? [];
    const byTicket = (id: string) => tools.filter((c) => c.ticketId === id).map((c) => `${c.summary} ${c.status}`);
    // The Coder checked its page, the check failed (no viewport), it rewrote the page, the check passed.
    expect(byTicket('T3')).toEqual([
      'list_files ok',
      'write_file index.html ok',
      'write_file script.js ok',
      'check_page index.html error',
      'write_file index.html ok',
      'write_file script.js ok',
      'check_page index.html ok',
    ]);
    // So the Boss accepted the Coder's first attempt (no review round for the viewport).
    expect(result.tickets.find((t) => t.id === 'T3')!.attempts).toBe(1);
    // The Tester wrote the test file, ran it in the sandbox and checked the page in Chromium.
    expect(byTicket('T4')).toEqual([
      'list_files ok',
      'write_file tests/check-page.mjs ok',
      'run_command node tests/check-page.mjs ok',
      'check_page index.html ok',
    ]);
    const run = tools.find((c) => c.tool === 'run_command')!;
    expect(run).toMatchObject({ exitCode: 0, role: 'tester', turn: 3 });
    expect(run.bytes).toBeGreaterThan(100);
    // The test report holds the real results, and the final report quotes them.
    const report = result.manifest.find((m) => m.path === 'TEST-REPORT.md')!;
    const text = (await deps.store.read(report)).toString('utf8');
    expect(text).toMatch(
      /## Results of the runs in the sandbox[\s\S]*node tests\/check-page\.mjs: exit code 0[\s\S]*9\/9 checks passed/,
    );
    expect(result.report.summary).toMatch(
      /T4 Test the page \(tester\): accepted — Results: node tests\/check-page\.mjs: exit code 0/,
    );
    // Activity summaries name the role, ticket, turn and tool.
    const loop = harness.conn.client.workflow.getHandle(`${runId}/T4/agent-1`);
    const history = await loop.fetchHistory();
    const summaries = (history.events ?? [])
      .map((e) => e.userMetadata?.summary?.data)
      .filter((d): d is Uint8Array => d instanceof Uint8Array)
      .map((d) => JSON.parse(Buffer.from(d).toString('utf8')) as string);
    expect(summaries).toContain('tester T4 turn 3: run_command node tests/check-page.mjs');
    expect(summaries).toContain('tester T4 turn 1');

    // The Boss's review of the Coder's attempt saw the checks it ran, the failed one and the re-run.
    const coderReview = harness.sim
      .requests()
      .find(
        (q) =>
          q.schemaName === SCHEMA_NAMES.review && q.messages.some((m) => m.content.includes('Review of ticket T3')),
      )!;
    expect(coderReview.messages.at(-1)!.content).toMatch(
      /## Checks the agent ran[^\n]*\n- check_page index\.html — FAILED\n- check_page index\.html — passed/,
    );

    // Hygiene on tool turns: no goal text and no other ticket in any worker turn, tool results included.
    const titles = new Map(result.plan.tickets.map((t) => [t.id, t.title]));
    const turns = harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work && r.status === 200);
    const toolTurns = turns.filter((r) => r.messages.some((m) => m.role === 'tool'));
    expect(toolTurns.length).toBeGreaterThanOrEqual(6);
    for (const call of turns) {
      const text = call.messages.map((m) => m.content).join('\n');
      const ticket = result.plan.tickets.find((t) => t.id === call.ticketId)!;
      expect(text).not.toContain(goal);
      expect(text).not.toContain('# Goal');
      for (const [id, title] of titles)
        if (id !== ticket.id && !ticket.dependsOn.includes(id)) expect(text).not.toContain(title);
    }
  });

  it('escalates with the reason when the agent runs out of turns', async () => {
    const taskQueue = uniqueQueue('agent-turns');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    // One turn, and its answer breaks the schema: the budget is spent without a final answer.
    const role = { ...TEST_ROLES.find((r) => r.name === 'coder')!, agent: { ...AGENT, maxTurns: 1 } };
    harness.sim.injectFault({ kind: 'schema-invalid', match: { ticketId: 'T1', schemaName: SCHEMA_NAMES.work } });
    const input: TicketInput = {
      runId: 'turns-run',
      ticket: {
        id: 'T1',
        role: 'coder',
        title: 'Build the page',
        spec: 'Build the one-page website of Leaf Lounge, a tea room. Deliver these files: `index.html`.',
        acceptanceCriteria: ['index.html exists'],
        dependsOn: [],
      },
      role,
      dependencies: [],
      maxRevisions: 1,
    };
    const outcome = (await worker.runUntil(() =>
      harness.conn.client.workflow.execute('ticketWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}/T1`,
        args: [input],
      }),
    )) as TicketOutcome;
    expect(outcome).toMatchObject({ status: 'escalated', escalation: 'turns', attempts: 1 });
    expect(outcome.escalationReason).toMatch(
      /the coder agent used all 1 turns without a final answer; its last answer was not valid: the JSON does not match the schema/,
    );
  });

  it('asks a person before a risky tool: a rejection reaches the agent, first-use approval holds for the run', async () => {
    const taskQueue = uniqueQueue('agent-approval');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const roles = (approval: 'always' | 'first-use') =>
      TEST_ROLES.map((r): RoleInfo => ({
        ...r,
        agent: { tools: ['list_files', 'write_file'], approvals: { list_files: approval } },
      }));
    await worker.runUntil(async () => {
      // always + reject: the call does not run; the agent reads the person's comment.
      const rejected = await api.start('Write a short guide to pruning roses [sim:tickets=1]', {
        runId: `${taskQueue}-reject`,
        roles: roles('always'),
      });
      const s1 = await waitForStatus(harness.conn.client, rejected, (s) => s.pendingGates.length === 1);
      expect(s1.pendingGates[0]).toMatchObject({ kind: 'ticket', ticketId: 'T1' });
      expect(s1.pendingGates[0]!.reason).toMatch(
        /T1 wants to call list_files \{"path":""\} — approve to run it, or reject/,
      );
      await api.decide(rejected, {
        decision: 'reject',
        gate: 'ticket',
        ticketId: 'T1',
        by: 'ana',
        comment: 'no listing today',
      });
      const r1 = await api.result(rejected);
      expect(r1.status).toBe('completed');
      expect(r1.toolCalls!.map((c) => `${c.tool} ${c.status}`)).toEqual(['list_files rejected', 'write_file ok']);
      const turn2 = harness.sim
        .requests()
        .find((q) => q.messages.some((m) => m.role === 'tool' && m.content.includes('a person rejected this call')));
      expect(turn2!.messages.find((m) => m.role === 'tool')!.content).toBe(
        'ERROR: a person rejected this call: no listing today (rejected by ana)',
      );

      // first-use + approve: the first call waits for a person, the next ones in the run do not.
      const approved = await api.start('Write two short guides to pruning roses [sim:tickets=2]', {
        runId: `${taskQueue}-approve`,
        roles: roles('first-use'),
        maxParallel: 1,
      });
      await waitForStatus(harness.conn.client, approved, (s) => s.pendingGates.length === 1);
      await api.decide(approved, { decision: 'approve', by: 'ana' });
      const r2 = await api.result(approved);
      expect(r2.status).toBe('completed');
      expect(r2.toolCalls!.filter((c) => c.tool === 'list_files').map((c) => c.status)).toEqual(['ok', 'ok']);
      expect(r2.gates).toHaveLength(1);
      expect(r2.audit.map((a) => a.action)).toEqual(expect.arrayContaining(['approve', 'tool-approved-before']));
    });
  });

  it('continues as new past its history bound and still finishes with every tool call on record', async () => {
    const taskQueue = uniqueQueue('agent-can');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const input: AgentLoopInput = {
      runId: 'can-run',
      ticket: {
        id: 'T1',
        role: 'writer',
        title: 'Write the guide',
        spec: 'Write a short guide to brewing tea. Deliver these files: `docs/tea.md`, `docs/cups.md`.',
        acceptanceCriteria: ['docs/tea.md exists'],
        dependsOn: [],
      },
      settings: { tools: ['list_files', 'write_file'] },
      dependencies: [],
      attempt: 1,
      historyBound: 12,
    };
    const out = await worker.runUntil(async () => {
      const handle = await harness.conn.client.workflow.start('agentLoopWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}/T1/agent-1`,
        args: [input],
      });
      const result = (await handle.result()) as AgentLoopOutput;
      const first = await harness.conn.client.workflow
        .getHandle(handle.workflowId, handle.firstExecutionRunId)
        .fetchHistory();
      return { result, firstLast: first.events?.at(-1)?.eventType };
    });
    expect(out.firstLast).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    expect(out.result.toolCalls.map((c) => c.summary)).toEqual([
      'list_files',
      'write_file docs/tea.md',
      'write_file docs/cups.md',
    ]);
    expect(out.result.artifacts.map((a) => a.path).sort()).toEqual(['docs/cups.md', 'docs/tea.md']);
    expect(out.result.turns).toBe(3);
    expect(out.result.calls).toHaveLength(3);
  });
});
