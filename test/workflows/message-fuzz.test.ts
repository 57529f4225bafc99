/**
 * Property test of every signal and update handler against hostile payloads, on live workflows of
 * the suite's Temporal server (real activities, simulated LLM): a budgeted run waiting at a tool
 * approval gate, its ticket child and the agent loop waiting on the decision; and an epic's
 * sub-run (which draws on its parent's permits) waiting at its plan gate. Each handler gets
 * arbitrary JSON (null, numbers, strings, arrays, wrong shapes, near-valid mutations of a real
 * payload, ~1 MB strings, 1000-deep nesting) and payloads that fit the schema but name no gate,
 * ticket or request. After every batch, every workflow's status query answers exactly as before
 * (apart from the audit of what was ignored); at the end no workflow task failed, every handler
 * a workflow registered is a validated one, and the run can still be approved and cancelled.
 */
import fc from 'fast-check';
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { agentLoopWorkflowId, ticketWorkflowId } from '../../src/shared/constants';
import * as messages from '../../src/shared/messages';
import { SpendGrant, SpendReport, SpendRequest } from '../../src/shared/permits';
import { ToolApprovalRequestPayload } from '../../src/shared/tool-approval-payloads';
import type { RoleInfo, RunStatus } from '../../src/shared/types';
import { EpicProgressPayload } from '../../src/workflows/epic-progress';
import { DecidePayload, DecisionPayload, RaiseBudgetPayload } from '../../src/workflows/gate-payloads';
import { VALIDATED_HANDLER } from '../../src/workflows/message-handlers';
import { z } from 'zod';
import {
  failedWorkflowTasks,
  fixedJunk,
  junkFor,
  registeredHandlers,
  send,
  type FuzzTarget,
} from '../helpers/message-fuzz';
import { waitForStatus } from '../helpers/runs';
import { TEST_ROLES, useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'fuzz');

/** Batches per handler and payloads per batch (~40 generated payloads per handler, plus the fixed ones). */
const BATCHES = 5;
const BATCH = 8;

const usage = { promptTokens: 10, cachedTokens: 0, completionTokens: 10, usd: 0.5, calls: 1 };

/** The run-level handlers of a run (or sub-run) `h`, whose tickets include `ticketId`. */
function runTargets(h: WorkflowHandle, ticketId: string, loopId: string): FuzzTarget[] {
  const decision = { gateId: 'plan#7', by: 'mallory', comment: 'forged' };
  return [
    ...(['approve', 'reject'] as const).map((name) => ({
      handle: h,
      name,
      kind: 'signal' as const,
      schema: DecisionPayload,
      real: decision,
      misaddressed: [{ gateId: 'plan#7' }, { gate: 'final' }, { gate: 'ticket', ticketId: 'T9' }, { gate: 'budget' }],
    })),
    {
      handle: h,
      name: messages.decideUpdate.name,
      kind: 'update',
      schema: DecidePayload,
      real: { ...decision, decision: 'approve' },
      misaddressed: [
        { decision: 'approve', gateId: 'plan#7' },
        { decision: 'skip', gate: 'final' },
        { decision: 'approve', gate: 'ticket', ticketId: 'T9' },
      ],
    },
    {
      handle: h,
      name: messages.raiseBudgetSignal.name,
      kind: 'signal',
      schema: RaiseBudgetPayload,
      real: { usd: 5, by: 'mallory' },
    },
    {
      handle: h,
      name: messages.spendRequestSignal.name,
      kind: 'signal',
      schema: SpendRequest,
      real: { ticketId, seq: 5, calls: 2 },
      misaddressed: [{ ticketId: 'T9', seq: 1 }],
    },
    {
      handle: h,
      name: messages.spendReportSignal.name,
      kind: 'signal',
      schema: SpendReport,
      real: { ticketId, kind: 'work', usage, seq: 5 },
      misaddressed: [
        { ticketId: 'T9', kind: 'work', usage },
        { ticketId, kind: 'work', usage, seq: 999 },
      ],
    },
    {
      handle: h,
      name: messages.epicProgressSignal.name,
      kind: 'signal',
      schema: EpicProgressPayload,
      real: { ticketId, phase: 'executing', counts: { accepted: 1 }, gates: [] },
      misaddressed: [{ ticketId: 'T9', phase: 'executing', counts: {}, gates: [] }],
    },
    {
      handle: h,
      name: messages.toolApprovalRequestSignal.name,
      kind: 'signal',
      schema: ToolApprovalRequestPayload,
      real: {
        ticketId,
        loopWorkflowId: loopId,
        requestId: '1:x',
        tool: 'list_files',
        call: 'list_files {}',
        approval: 'always',
      },
      misaddressed: [
        { ticketId: 'T9', loopWorkflowId: loopId, requestId: '1:x', tool: 'list_files', call: 'c', approval: 'always' },
        {
          ticketId,
          loopWorkflowId: 'some-other-workflow',
          requestId: '1:x',
          tool: 'list_files',
          call: 'c',
          approval: 'always',
        },
        { ticketId, loopWorkflowId: `${loopId}x`, requestId: '1:x', tool: 'list_files', call: 'c', approval: 'always' },
        { ticketId, loopWorkflowId: loopId, requestId: '1:x', tool: 'list_files', call: 'c', approval: 'first-use' },
        { ticketId, loopWorkflowId: loopId, requestId: '1:x', tool: 'write_file', call: 'c', approval: 'always' },
      ],
    },
  ];
}

/** Observable state of the workflows `watched`: statuses without what records ignored messages. */
async function observed(watched: WorkflowHandle[]): Promise<unknown[]> {
  return Promise.all(
    watched.map(async (h) => {
      const { audit: _audit, ignored: _ignored, ...rest } = await h.query<RunStatus & { ignored?: unknown }>('status');
      return rest;
    }),
  );
}

/** Throws every target's payloads at it, checking after each batch that nothing observable moved. */
async function attack(targets: FuzzTarget[], watched: WorkflowHandle[]): Promise<void> {
  const before = await observed(watched);
  for (const t of targets) {
    for (const p of [...fixedJunk(t), ...(t.misaddressed ?? [])]) await send(t, p);
    expect(await observed(watched)).toEqual(before);
    await fc.assert(
      fc.asyncProperty(fc.array(junkFor(t), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await Promise.all(batch.map((p) => send(t, p)));
        expect(await observed(watched)).toEqual(before);
      }),
      { numRuns: BATCHES },
    );
  }
  for (const h of watched) expect(await failedWorkflowTasks(harness.conn.client, h.workflowId)).toBe(0);
}

/** Every signal/update handler the live workflow registered is a validated one from messages.ts. */
async function expectValidatedHandlers(h: WorkflowHandle, names: string[]): Promise<void> {
  const handlers = await registeredHandlers(h);
  expect(handlers.map((d) => d.name).sort()).toEqual([...names].sort());
  for (const d of handlers) expect(d).toEqual({ name: d.name, description: VALIDATED_HANDLER });
}

/** Whether the run ended cancelled (within 30 s). */
async function endsCancelled(h: WorkflowHandle): Promise<boolean> {
  try {
    await h.result();
    return false;
  } catch (err) {
    return err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure;
  }
}

describe('every signal and update handler against hostile payloads', () => {
  it('a run at a tool gate, its ticket and its agent loop: unchanged, no failed task, still approvable and cancellable', async () => {
    const roles = TEST_ROLES.map((r): RoleInfo => ({
      ...r,
      agent: { tools: ['list_files', 'write_file'], approvals: { list_files: 'always' } },
    }));
    const runId = await runner.start('Write a short guide to pruning roses [sim:tickets=1]', {
      roles,
      budget: { usd: 50 },
      finalApproval: 'manual',
    });
    const waiting = await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates.length === 1);
    const wf = harness.conn.client.workflow;
    const run = wf.getHandle(runId);
    const ticket = wf.getHandle(ticketWorkflowId(runId, 'T1'));
    const loopId = agentLoopWorkflowId(ticketWorkflowId(runId, 'T1'), 1);
    const loop = wf.getHandle(loopId);
    const targets: FuzzTarget[] = [
      ...runTargets(run, 'T1', loopId),
      {
        handle: ticket,
        name: messages.spendGrantSignal.name,
        kind: 'signal',
        schema: SpendGrant,
        real: { seq: 7, calls: 3 },
        misaddressed: [{ seq: 99, calls: 1 }],
      },
      {
        handle: loop,
        name: messages.toolApprovalDecisionSignal.name,
        kind: 'signal',
        // Any decision is fair game here: none answers the request the loop waits on.
        schema: z.never(),
        real: { requestId: '1:call_sim_1_0', approved: true, by: 'mallory' },
        misaddressed: [{ requestId: '1:call_sim_1_0', approved: true, by: 'mallory' }],
      },
    ];
    await attack(targets, [run, ticket, loop]);
    await expectValidatedHandlers(run, [
      'approve',
      'reject',
      'decide',
      'raiseBudget',
      'maestro.spendRequest',
      'maestro.spendReport',
      'maestro.epicProgress',
      'maestro.toolApprovalRequest',
    ]);
    await expectValidatedHandlers(ticket, ['maestro.spendGrant']);
    await expectValidatedHandlers(loop, ['maestro.toolApprovalDecision']);
    // The junk is on record, bounded.
    const audit = (await runner.api.status(runId)).audit.filter((a) => a.action.startsWith('ignored-'));
    expect(audit.length).toBeGreaterThan(5);
    expect(audit.length).toBeLessThanOrEqual(51);
    expect(JSON.stringify(audit).length).toBeLessThan(100_000);

    // A person's approval still goes through: the gated call runs, the run reaches its final gate.
    await runner.api.decide(runId, { decision: 'approve', gate: waiting.pendingGates[0]!.id, by: 'ana' });
    const final = await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'final', 60_000);
    expect(final.toolCalls?.map((c) => `${c.tool} ${c.status}`)).toEqual(['list_files ok', 'write_file ok']);
    await runner.api.cancel(runId);
    expect(await endsCancelled(run)).toBe(true);
    expect(await failedWorkflowTasks(harness.conn.client, runId)).toBe(0);
  }, 600_000);

  it('an epic’s sub-run at its plan gate: unchanged, no failed task, still approvable and cancellable', async () => {
    const runId = await runner.start('Notes on tides [sim:epics=1] [sim:tickets=1]', {
      epics: true,
      budget: { usd: 5 },
      planApproval: 'manual',
    });
    await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'plan');
    await runner.api.decide(runId, { decision: 'approve', by: 'ana' });
    const subId = ticketWorkflowId(runId, 'T1');
    const waiting = await waitForStatus(harness.conn.client, subId, (s) => s.pendingGates[0]?.kind === 'plan', 60_000);
    // The sub-run's Boss call is booked in the top run (its report is on its way): wait for it.
    await waitForStatus(harness.conn.client, runId, (s) => s.cost.byRole.boss?.calls === 2);
    const wf = harness.conn.client.workflow;
    const run = wf.getHandle(runId);
    const sub = wf.getHandle(subId);
    const targets: FuzzTarget[] = [
      ...runTargets(sub, 'T1', agentLoopWorkflowId(ticketWorkflowId(subId, 'T1'), 1)),
      {
        handle: sub,
        name: messages.spendGrantSignal.name,
        kind: 'signal',
        schema: SpendGrant,
        real: { seq: 7, calls: 3 },
      },
      // The stop carries nothing: any payload is junk.
      { handle: sub, name: messages.epicStopSignal.name, kind: 'signal', schema: z.undefined(), real: { stop: true } },
    ];
    await attack(targets, [sub, run]);
    await expectValidatedHandlers(sub, [
      'approve',
      'reject',
      'decide',
      'raiseBudget',
      'maestro.spendRequest',
      'maestro.spendReport',
      'maestro.spendGrant',
      'maestro.epicStop',
      'maestro.epicProgress',
      'maestro.toolApprovalRequest',
    ]);
    // The sub-run's plan can still be approved, and the whole tree cancelled.
    await runner.api.decide(subId, { decision: 'approve', gate: waiting.pendingGates[0]!.id, by: 'ana' });
    await waitForStatus(harness.conn.client, subId, (s) => s.phase !== 'planning', 30_000);
    await runner.api.cancel(runId);
    expect(await endsCancelled(run)).toBe(true);
    for (const id of [runId, subId]) expect(await failedWorkflowTasks(harness.conn.client, id)).toBe(0);
  }, 600_000);
});
