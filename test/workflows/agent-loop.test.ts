/**
 * Agent loops on the suite's Temporal dev server with the real activities, the real sandbox,
 * real Chromium and the simulated LLM speaking OpenAI's `tools`/`tool_calls` format: a website
 * run whose Coder and Tester are agents (a failing page check is fixed by the Coder, the Tester
 * runs the test file and the page check, the report quotes the results), context hygiene on every
 * tool turn, the turn budget, and continue-as-new of a long loop.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { AgentSettings } from '../../src/shared/tools';
import type { LlmCallRecord, RoleInfo, RunInput, RunResult, TicketInput, TicketOutcome } from '../../src/shared/types';
import { temporal } from '@temporalio/proto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { MaestroClient } from '../../src/client/api';
import type { AgentLoopInput, AgentLoopOutput } from '../../src/workflows/agent-loop';
import { watchSnapshots } from '../../src/client/watch/poll';
import { toolBlockLines, watchedToolCalls } from '../../src/client/watch/tool-block';
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
  // What `maestro watch` shows meanwhile: the running agent loops' tool calls, as they happen.
  const watched: string[] = [];
  const result = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [{ roles: agentRoles(), ...input }],
    });
    const api = new MaestroClient(harness.conn.client, taskQueue);
    for await (const snap of watchSnapshots(api, runId, { intervalMs: 100 }))
      for (const line of toolBlockLines(watchedToolCalls([], snap.liveToolCalls)).slice(1))
        if (!watched.includes(line)) watched.push(line);
    return (await handle.result()) as RunResult;
  });
  return { runId, deps, result, watched };
}

/** T1 of Leaf Lounge for the Coder working as an agent with `agent`, started on its own. */
const coderTicketInput = (o: { runId: string; agent: AgentSettings; maxRevisions: number }): TicketInput => ({
  runId: o.runId,
  ticket: {
    id: 'T1',
    role: 'coder',
    title: 'Build the page',
    spec: 'Build the one-page website of Leaf Lounge, a tea room. Deliver these files: `index.html`.',
    acceptanceCriteria: ['index.html exists'],
    dependsOn: [],
  },
  role: { ...TEST_ROLES.find((r) => r.name === 'coder')!, agent: o.agent },
  dependencies: [],
  maxRevisions: o.maxRevisions,
});

describe('agent loops', () => {
  it("runs the Coder and Tester as agents: the Tester's failing test re-opens the Coder's ticket, then passes", async () => {
    harness.sim.clearRequests();
    const goal = 'Build a landing page for a tea room called Leaf Lounge';
    const { runId, deps, result, watched } = await runGoal('agent-website', { goal });
    expect(result.status).toBe('completed');
    // `maestro watch` saw the Tester's failing run live, while its agent loop was still going.
    expect(watched).toContainEqual(
      expect.stringMatching(/^ {2}T4 tester turn 3: run_command node tests\/check-page\.mjs — failed, exit 1, \d+ ms$/),
    );
    const tools = result.toolCalls ?? [];
    const byTicket = (id: string) => tools.filter((c) => c.ticketId === id).map((c) => `${c.summary} ${c.status}`);
    // Round 1: the Coder checked its page, the check failed (no viewport), it rewrote the page, the
    // check passed. Round 2 (re-opened after the Tester's test failed): it wrote the page with the
    // language declared and its check passed at once.
    expect(byTicket('T3')).toEqual([
      'list_files ok',
      'write_file index.html ok',
      'write_file script.js ok',
      'check_page index.html error',
      'write_file index.html ok',
      'write_file script.js ok',
      'check_page index.html ok',
      'list_files ok',
      'write_file index.html ok',
      'write_file script.js ok',
      'check_page index.html ok',
    ]);
    // The Tester wrote the test file and ran it in the sandbox: 8/9 (no lang on <html>), so the Boss
    // sent T3 back; on T3's new page the Tester's second run passed.
    expect(byTicket('T4')).toEqual([
      'list_files ok',
      'write_file tests/check-page.mjs ok',
      'run_command node tests/check-page.mjs error',
      'check_page index.html ok',
      'list_files ok',
      'write_file tests/check-page.mjs ok',
      'run_command node tests/check-page.mjs ok',
      'check_page index.html ok',
    ]);
    const t3 = result.tickets.find((t) => t.id === 'T3')!;
    expect(t3).toMatchObject({ state: 'accepted', attempts: 2, reopened: 1 });
    expect(result.tickets.find((t) => t.id === 'T4')).toMatchObject({ state: 'accepted', attempts: 2 });
    const reopen = result.audit.find((a) => a.action === 'reopen')!;
    expect(reopen).toMatchObject({ by: 'boss', ticketId: 'T3' });
    expect(reopen.comment).toMatch(
      /^re-opened \(1 of 2\): T4's check failed: .*8\/9 checks passed; FAIL declares the language on <html>/,
    );
    const runs = tools.filter((c) => c.tool === 'run_command');
    expect(runs.map((r) => r.exitCode)).toEqual([1, 0]);
    // The re-opened Coder saw the Tester's evidence as feedback, and the page it delivered declares its language.
    const reopened = harness.sim
      .requests()
      .find(
        (q) => q.ticketId === 'T3' && q.messages.some((m) => m.content.includes('A ticket that tests your output')),
      )!;
    expect(reopened.messages.at(-1)!.content).toMatch(
      /## Reviewer feedback[^\n]*\nA ticket that tests your output found a problem \(re-open 1 of at most 2\)[^\n]*\nThe tests of index\.html failed: node tests\/check-page\.mjs: exit code 1 \([^)]*\); 8\/9 checks passed; FAIL declares the language on <html>/,
    );
    expect(result.manifest.filter((m) => m.path === 'index.html')).toHaveLength(1);
    const page = (await deps.store.read(result.manifest.find((m) => m.path === 'index.html')!)).toString('utf8');
    expect(page).toContain('<html lang="en">');
    const run = runs[1]!;
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
    /** The last message of the first review request whose prompt contains `text`. */
    const reviewPrompt = (text: string) =>
      harness.sim
        .requests()
        .find((q) => q.schemaName === SCHEMA_NAMES.review && q.messages.some((m) => m.content.includes(text)))!
        .messages.at(-1)!.content;
    expect(reviewPrompt('Review of ticket T3')).toMatch(
      /## Checks the agent ran[^\n]*\n- check_page index\.html — FAILED\n- check_page index\.html — passed/,
    );

    // The Boss's review of T3's new round saw the test results that re-opened it.
    expect(reviewPrompt('## Test results that re-opened this ticket')).toMatch(
      /# Review of ticket T3 [\s\S]*## Test results that re-opened this ticket[^\n]*\nThe tests of index\.html failed: [^\n]*FAIL declares the language on <html>/,
    );

    // The Boss's review of the Tester's first attempt saw the failed run and the tickets it tested.
    expect(reviewPrompt('Review of ticket T4')).toMatch(
      /- run_command node tests\/check-page\.mjs — FAILED \(exit 1\)[\s\S]*## Tickets this one depends on[^\n]*\n- T1 \(designer\): [^\n]*\n- T3 \(coder\): Build the landing page — files: index\.html, script\.js/,
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

  it('bounds the re-opens: a Tester whose check keeps failing ends at a ticket gate with the reason, not in a loop', async () => {
    const taskQueue = uniqueQueue('agent-reopen-bound');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const runId = `${taskQueue}-run`;
    await worker.runUntil(async () => {
      // [sim:failing-test=1]: the Tester's script has a check no page passes, so its test always fails.
      await api.start('Build a landing page for a tea room called Leaf Lounge [sim:failing-test=1]', {
        runId,
        roles: agentRoles(),
        maxReopens: 1,
      });
      const s = await waitForStatus(harness.conn.client, runId, (st) => st.pendingGates.length === 1, 120_000);
      const gate = s.pendingGates[0]!;
      expect(gate).toMatchObject({ kind: 'ticket', ticketId: 'T4' });
      expect(gate.reason).toMatch(
        /^T4: its check failed \(The checks fail because of T3: .*FAIL has the marker no page has.*\); T3 was already re-opened 1 time\(s\) \(the limit, --max-reopens 1\) and T4's check still fails — approve anyway, retry with feedback, skip, or abort$/,
      );
      expect(s.tickets.find((t) => t.id === 'T3')).toMatchObject({ state: 'accepted', reopened: 1 });
      expect(s.audit.filter((a) => a.action === 'reopen')).toHaveLength(1);
      await api.decide(runId, { decision: 'skip', gate: gate.id, by: 'ana', comment: 'fix lang by hand' });
      const r = await api.result(runId);
      expect(r.status).toBe('partial');
      expect(r.tickets.find((t) => t.id === 'T4')).toMatchObject({ state: 'skipped', attempts: 2 });
      // Two rounds of each, no more: every test run failed and the Coder ran twice.
      expect(r.toolCalls!.filter((c) => c.tool === 'run_command').map((c) => c.exitCode)).toEqual([1, 1]);
      expect(r.tickets.find((t) => t.id === 'T3')!.attempts).toBe(2);
    });
  });

  it('escalates with the reason when the agent runs out of turns', async () => {
    const taskQueue = uniqueQueue('agent-turns');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    // One turn, and its answer breaks the schema: the budget is spent without a final answer.
    harness.sim.injectFault({ kind: 'schema-invalid', match: { ticketId: 'T1', schemaName: SCHEMA_NAMES.work } });
    const input = coderTicketInput({ runId: 'turns-run', agent: { ...AGENT, maxTurns: 1 }, maxRevisions: 1 });
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

  it('a ticket whose agent fails mid-loop lists every call of its earlier turns in its failure, so the run bills them', async () => {
    const taskQueue = uniqueQueue('agent-fails');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    harness.sim.clearFaults();
    harness.sim.clearRequests();
    // The first turn answers normally (a 0 ms latency fault holds its place); the second is refused (400).
    const turn = { ticketId: 'T1', schemaName: SCHEMA_NAMES.work };
    harness.sim.injectFault({ kind: 'latency', latencyMs: 0, match: turn });
    harness.sim.injectFault({ kind: 'bad-request', match: turn });
    const input = coderTicketInput({ runId: 'agent-fails-run', agent: AGENT, maxRevisions: 0 });
    const err: unknown = await worker.runUntil(() =>
      harness.conn.client.workflow
        .execute('ticketWorkflow', { taskQueue, workflowId: `${taskQueue}/T1`, args: [input] })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const listed = failure.details?.[0] as { calls: LlmCallRecord[]; wholeTicket: boolean };
    expect(listed.wholeTicket).toBe(true);
    const seen = harness.sim.requests();
    expect(seen.map((q) => q.status)).toEqual([200, 400]);
    // The first turn's paid call is on the failure's list, with the tokens the server billed.
    expect(listed.calls.map((c) => c.promptTokens + c.completionTokens)).toEqual(
      expect.arrayContaining([seen[0]!.usage!.prompt_tokens + seen[0]!.usage!.completion_tokens]),
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

  it('a first-use approval still holds after the run continued as new', async () => {
    const taskQueue = uniqueQueue('agent-approval-can');
    const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
    const api = new MaestroClient(harness.conn.client, taskQueue);
    const roles = TEST_ROLES.map((r): RoleInfo => ({
      ...r,
      agent: { tools: ['list_files', 'write_file'], approvals: { list_files: 'first-use' } },
    }));
    await worker.runUntil(async () => {
      // One ticket at a time and a small history bound: the run continues as new between tickets.
      const runId = `${taskQueue}-run`;
      const input: RunInput = {
        goal: 'Write three short guides to pruning roses [sim:tickets=3]',
        roles,
        maxParallel: 1,
        maxHistoryEvents: 30,
      };
      await harness.conn.client.workflow.start('orchestratorWorkflow', { taskQueue, workflowId: runId, args: [input] });
      await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 1);
      await api.decide(runId, { decision: 'approve', by: 'ana' });
      const r = await api.result(runId);
      expect(r.status).toBe('completed');
      const history = await harness.conn.client.workflow.getHandle(runId).fetchHistory();
      // The execution that finished is not the first one.
      expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId).toBeTruthy();
      expect(r.toolCalls!.filter((c) => c.tool === 'list_files').map((c) => c.status)).toEqual(['ok', 'ok', 'ok']);
      expect(r.gates).toHaveLength(1);
      expect(r.audit.filter((a) => a.action === 'tool-approved-before')).toHaveLength(2);
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
