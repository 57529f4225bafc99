/**
 * An epic ticket runs as a sub-run: a child orchestrator (the same `orchestratorWorkflow`) whose
 * Boss plans and runs the epic's own tickets under the run's gates, limits and hygiene rules. It
 * sees its epic and the outputs of the epic's dependencies, never the parent's goal. In a budgeted
 * run it draws its calls from the parent's permits (tree-budget.ts), so the tree shares one
 * budget; its spending, calls and files roll up into the parent.
 */
import { executeChild, getExternalWorkflowHandle, patched, proxyActivities } from '@temporalio/workflow';
import { epicStopSignal } from '../shared/messages';
import type { MaestroActivities } from '../activities';
import { ticketWorkflowId } from '../shared/constants';
import { markdownInline, summaryText } from '../shared/model-text';
import { restoreRecords } from '../shared/run-records';
import { bossLevel, epicFilePath, epicGoal, isEpic } from '../shared/epics';
import type { Ticket } from '../shared/schemas';
import type { Budget, RunInput, RunResult, TicketOutcome } from '../shared/types';
import { emptyUsage } from '../shared/usage';
import { acceptedText } from '../shared/outcomes';
import { TREE_BUDGET_PATCH } from './patches';
import type { RunState } from './run-state';

const { loadRunRecords } = proxyActivities<MaestroActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/** The orchestrator's shape, named here by type only (the workflow file imports this one). */
type SubRunWorkflow = (input: RunInput) => Promise<RunResult>;

/**
 * Runs an epic as a sub-run and returns it as the outcome of the epic's ticket. `feedback` is a
 * person's comment when the epic was sent back at its ticket gate: the new sub-Boss plans with it.
 */
export async function runEpic(state: RunState, ticket: Ticket, feedback?: string): Promise<TicketOutcome> {
  const input = state.input;
  // The sub-run draws on this run's permits (one budget for the tree); runs started before gave
  // it a cap of its own: what was left when it started.
  const shared = state.budget !== undefined && patched(TREE_BUDGET_PATCH);
  const budget = shared ? undefined : remainingBudget(state);
  const subRun: RunInput = {
    ...input,
    goal: epicGoal(ticket, state.dependencyOutputs(ticket.dependsOn), feedback),
    epic: {
      parentRunId: state.runId,
      ticketId: ticket.id,
      level: bossLevel(input) + 1,
      ...(shared ? { parentBudget: true } : {}),
    },
    ...(budget ? { budget } : {}),
  };
  if (!budget) delete subRun.budget;
  // Its own plan, gates and audit stay in the sub-run; what the parent keeps comes from its result.
  const result = await executeChild<SubRunWorkflow>('orchestratorWorkflow', {
    workflowId: ticketWorkflowId(state.runId, ticket.id),
    staticSummary: `[epic] ${ticket.id} ${summaryText(ticket.title)}`,
    staticDetails: markdownInline(ticket.spec),
    args: [subRun],
  });
  // A large sub-run stored its manifest and call records: the parent needs them back (files, cost).
  const kept = result.records && { manifest: result.records.manifest, calls: result.records.calls };
  const needed = kept ? { ...result, records: kept } : result;
  return epicOutcome(ticket, await restoreRecords(needed, (ref) => loadRunRecords({ ref })));
}

/** Whether an epic's sub-run draws on the run's permits (tree-budget.ts), so it can stop on its own. */
export function drawsOnRunBudget(state: RunState, ticket: Ticket | undefined): boolean {
  return ticket !== undefined && isEpic(ticket) && state.budget !== undefined && patched(TREE_BUDGET_PATCH);
}

/** Tells an epic's sub-run that the run stopped spending at its budget gate. */
export function stopEpic(state: RunState, epicId: string): Promise<void> {
  return getExternalWorkflowHandle(ticketWorkflowId(state.runId, epicId)).signal(epicStopSignal);
}

/**
 * An epic that ended after the run was stopped at its budget gate: what its sub-run accepted is
 * kept (its files and report, as the epic's result), else it is skipped; nobody is asked.
 */
export function keepStoppedEpic(state: RunState, ticket: Ticket, outcome: TicketOutcome | undefined): void {
  if (outcome?.status === 'accepted') return state.accept(outcome, outcome.shortfall);
  if (outcome && outcome.artifacts.length > 0)
    return state.accept(outcome, 'stopped at the budget: the accepted part of its sub-run is kept');
  state.mark(ticket.id, 'skipped', 'the budget was not extended');
}

/** What the parent has left of its budget: the most a sub-run may spend (absent: no budget). */
function remainingBudget(state: RunState): Budget | undefined {
  const b = state.budget;
  if (!b) return undefined;
  const cost = state.cost();
  return {
    ...(b.usd !== undefined ? { usd: Math.max(0, b.usd - cost.usd) } : {}),
    ...(b.tokens !== undefined ? { tokens: Math.max(0, b.tokens - cost.tokens) } : {}),
  };
}

/**
 * A sub-run's result as its epic's outcome: accepted when it completed (or ended partial, its
 * own gates having decided each ticket it did not accept), else escalated at the parent's ticket
 * gate. Files land under the epic's id so epics never overwrite each other's.
 */
export function epicOutcome(ticket: Ticket, result: RunResult): TicketOutcome {
  const accepted = result.tickets.filter((t) => t.state === 'accepted').length;
  const done = result.status === 'completed' || result.status === 'partial';
  const counts = `${accepted} of ${result.tickets.length} tickets accepted`;
  // A partial sub-run is kept, but the parent never counts it as a success (shared/outcomes.ts).
  const shortfall =
    result.status === 'partial' ? `its sub-run ended partial: ${acceptedText(result.tickets)}` : undefined;
  const summary = `${result.report.headline} (${counts}). ${result.report.summary}`;
  const { usage } = result.cost;
  return {
    ticketId: ticket.id,
    status: done ? 'accepted' : 'escalated',
    ...(done ? {} : { escalation: 'epic' as const, escalationReason: `its sub-run ended ${result.status}: ${counts}` }),
    ...(shortfall ? { shortfall } : {}),
    attempts: 1,
    summary: summary.length <= 2000 ? summary : `${summary.slice(0, 1999)}…`,
    artifacts: result.manifest.map((a) => ({
      path: epicFilePath(ticket.id, a.path),
      sha256: a.sha256,
      bytes: a.bytes,
      uri: a.uri,
    })),
    reviews: [],
    workUsage: usage,
    reviewUsage: emptyUsage(),
    usageByRole: result.cost.byRole,
    calls: result.calls.map((c) => ({ ...c, ticketId: c.ticketId ? `${ticket.id}/${c.ticketId}` : ticket.id })),
    ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
  };
}
