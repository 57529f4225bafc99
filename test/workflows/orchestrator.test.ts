/**
 * The orchestrator and ticket workflows on a real Temporal dev server, with the real activities
 * calling the simulated LLM over HTTP through the openai client.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RunInput, RunResult } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const roles = TEST_ROLES;
const WEBSITE_GOAL = 'Build a landing page for a coffee shop called Bean There';

const harness = useSimAndTemporal({ port: 0 });

async function runGoal(
  name: string,
  input: Partial<RunInput> & { goal: string },
  deps = testDeps(harness.sim.baseUrl),
) {
  const taskQueue = uniqueQueue(name);
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  const runId = `${taskQueue}-run`;
  const outcome = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [{ roles, ...input }],
    });
    try {
      return { result: (await handle.result()) as RunResult, error: undefined };
    } catch (err) {
      return { result: undefined, error: err };
    }
  });
  return { runId, deps, ...outcome };
}

describe('orchestratorWorkflow', () => {
  it('plans a website, runs each ticket as a child, revises once, and returns the files', async () => {
    const { runId, result, error } = await runGoal('website', { goal: WEBSITE_GOAL });
    expect(error).toBeUndefined();
    expect(result!.status).toBe('completed');
    expect(result!.tickets.map((t) => [t.id, t.role, t.state])).toEqual([
      ['T1', 'designer', 'accepted'],
      ['T2', 'writer', 'accepted'],
      ['T3', 'coder', 'accepted'],
      ['T4', 'tester', 'accepted'],
    ]);
    // The reviewer sent the coder's first attempt back (missing viewport) and accepted the second.
    expect(result!.tickets.find((t) => t.id === 'T3')!.attempts).toBe(2);
    expect(result!.manifest.map((m) => m.path)).toEqual(
      expect.arrayContaining(['index.html', 'styles.css', 'script.js']),
    );
    for (const m of result!.manifest) expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Cost is accounted per role, and adds up.
    expect(Object.keys(result!.cost.byRole).sort()).toEqual(['boss', 'coder', 'designer', 'tester', 'writer']);
    const sum = Object.values(result!.cost.byRole).reduce((s, u) => s + u.usd, 0);
    expect(result!.cost.usd).toBeCloseTo(sum, 6);
    expect(result!.cost.usage.calls).toBe(1 + 5 * 2 + 1); // plan + (work + review) x 5 attempts + final
    // Every call is on record with its role, ticket, tokens and cost, and the records add up.
    expect(result!.calls).toHaveLength(12);
    expect(result!.calls.reduce((sum, c) => sum + c.usd, 0)).toBeCloseTo(result!.cost.usd, 6);
    expect(result!.calls.filter((c) => c.kind === 'work' && c.ticketId === 'T3').map((c) => c.role)).toEqual([
      'coder',
      'coder',
    ]);
    expect(result!.calls.filter((c) => c.kind === 'review').every((c) => c.role === 'boss')).toBe(true);
    // Every ticket ran as a child workflow with the documented id and a readable summary.
    for (const t of result!.tickets) {
      const child = await harness.conn.client.workflow.getHandle(`${runId}/${t.id}`).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.parentExecution?.workflowId).toBe(runId);
      expect(await child.staticSummary()).toBe(`[${t.role}] ${t.id} ${t.title}`);
    }
    // No workflow payload carries a whole file: the history stays small.
    const history = await harness.conn.client.workflow.getHandle(runId).fetchHistory();
    expect(JSON.stringify(history).length).toBeLessThan(200_000);
  });

  it('keeps each worker prompt to its ticket and declared dependencies (context hygiene)', async () => {
    harness.sim.clearRequests();
    const goal = 'Build a landing page for a flower shop called Petal Pushers';
    const { result } = await runGoal('hygiene', { goal });
    const titles = new Map(result!.plan.tickets.map((t) => [t.id, t.title]));
    const workerCalls = harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work && r.status === 200);
    expect(workerCalls.length).toBeGreaterThanOrEqual(4);
    for (const call of workerCalls) {
      const text = call.messages.map((m) => m.content).join('\n');
      const ticket = result!.plan.tickets.find((t) => t.id === call.ticketId)!;
      expect(text).not.toContain(goal);
      expect(text).not.toContain('# Goal');
      for (const [id, title] of titles) {
        const allowed = id === ticket.id || ticket.dependsOn.includes(id);
        if (!allowed) expect(text).not.toContain(title);
      }
      for (const dep of ticket.dependsOn) expect(text).toContain(`### ${dep} (`);
      // Only the sections the prompt builder defines: nothing else can ride along.
      const outsideFiles = call.messages[1]!.content.replace(/```[\s\S]*?```/g, '');
      const sections = [...outsideFiles.matchAll(/^## (.+)$/gm)].map((m) => m[1]!.replace(/\(.*$/, '').trim());
      for (const s of sections) {
        expect([
          'Specification',
          'Acceptance criteria',
          'Inputs from the tickets this one depends on',
          'Reviewer feedback on your previous attempt',
          'Answer',
        ]).toContain(s);
      }
    }
  });

  it('re-plans with the validation errors when the plan is invalid', async () => {
    harness.sim.clearRequests();
    const { result } = await runGoal('replan', { goal: `${WEBSITE_GOAL} [sim:invalid-plan=1]` });
    expect(result!.planAttempts).toBe(2);
    const plans = harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.plan);
    expect(plans).toHaveLength(2);
    expect(plans[1]!.messages.at(-1)!.content).toMatch(/# Problems with your previous plan[\s\S]*cycle/);
  });

  it('fails with a clear error when no valid plan comes within the bound', async () => {
    const { error } = await runGoal('noplan', { goal: `${WEBSITE_GOAL} [sim:invalid-plan=9]`, maxReplans: 1 });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toContain('no valid plan in 2 attempts');
  });

  it('runs at most maxParallel tickets at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const deps = testDeps(harness.sim.baseUrl);
    const llm = deps.llm;
    deps.llm = {
      call: async (req) => {
        if (req.schemaName !== SCHEMA_NAMES.work) return llm.call(req);
        peak = Math.max(peak, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, 150));
          return await llm.call(req);
        } finally {
          inFlight--;
        }
      },
    };
    const { result } = await runGoal(
      'parallel',
      { goal: 'Write a set of short guides [sim:tickets=12]', maxParallel: 3 },
      deps,
    );
    expect(result!.tickets).toHaveLength(12);
    expect(result!.tickets.every((t) => t.state === 'accepted')).toBe(true);
    expect(peak).toBe(3);
  });
});
