/**
 * The run: the Boss plans (a person may approve the plan), tickets run as child workflows as
 * soon as their dependencies are accepted, the Boss writes the final report (a person may
 * approve it). Every loop is bounded and every wait for a person is a gate with a timeout
 * policy, recorded in the audit log.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { DEFAULT_LIMITS, SEARCH_ATTRIBUTES, ticketWorkflowId } from '../shared/constants';
import { FailureType } from '../shared/errors';
import { acceptedOnMerits, ticketStateLabel } from '../shared/outcomes';
import type { FinalReport, Plan } from '../shared/schemas';
import type { RunInput, RunPhase, RunResult } from '../shared/types';
import { LLM_ACTIVITY, llmTimeouts } from './activity-options';
import { historyFull, type ContinuedInput, type SchedulerCarry } from './continue-as-new';
import { branchSection, verifyBranch } from './repo-verify';
import { repoInputProblem } from '../shared/repo-paths';
import { BOSS_CALLS, BudgetController, callPermitsField, isPermitsUsedUp } from './budget';
import { UpstreamBudget, type RunPermits } from './tree-budget';
import { EpicBoard, EpicReporter } from './epic-progress';
import { failedCalls, rootCause } from './failures';
import { awaitGate } from './gates';
import { installHandlers } from './handlers';
import { RunNotifier } from './notify';
import { planWithApproval } from './planning';
import { keepsGatePromises } from './patches';
import { offloadLargeParts } from './records';
import { gatePolicy } from './policies';
import { keepBillInMemo, RunState } from './run-state';
import { executeTickets } from './scheduler';
import { installToolApprovals } from './tool-approvals';

const boss = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

/** Patch id: budget permits are granted per HTTP call (counts), not per activity. */
const PER_CALL_PERMITS = 'maestro-per-call-permits';

const PHASE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, 'KEYWORD');
const COST_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.costUsd, 'DOUBLE');
const RUN_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.runId, 'KEYWORD');
const ROLES_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.roles, 'KEYWORD_LIST');

/** Runs a goal to a result; the workflow id is the run id. */
export async function orchestratorWorkflow(input: RunInput): Promise<RunResult> {
  const limits = {
    maxParallel: input.maxParallel ?? DEFAULT_LIMITS.maxParallel,
    maxRevisions: input.maxRevisions ?? DEFAULT_LIMITS.maxRevisions,
    maxReplans: input.maxReplans ?? DEFAULT_LIMITS.maxReplans,
  };
  const runId = workflowInfo().workflowId;
  const state = new RunState(runId, input, () => new Date().toISOString());
  // Set only when the run continued as new (internal: not part of the public input).
  const carried = (input as RunInput & ContinuedInput).continued;
  if (carried) state.restore(carried.state);
  // Runs recorded before a permit meant one HTTP call keep granting as they did then. The sub-run
  // of an epic of a budgeted run draws on its parent's permits instead (tree-budget.ts).
  const childIdOf = (ticketId: string) => ticketWorkflowId(runId, ticketId);
  const budget: RunPermits = input.epic?.parentBudget
    ? new UpstreamBudget(state, input.epic, childIdOf, carried?.generation ?? 0)
    : new BudgetController(state, childIdOf, patched(PER_CALL_PERMITS));
  const notifier = new RunNotifier(state, carried?.notified);
  // Epics: a parent shows its sub-runs' progress; a sub-run reports its own to its parent.
  const board = new EpicBoard();
  const reporter = input.epic ? new EpicReporter(state, input.epic.parentRunId, input.epic.ticketId) : undefined;
  let lastPhase: RunPhase | undefined;
  const publish = () => {
    setCurrentDetails(state.details(board.details(runId)));
    reporter?.report();
    if (input.searchAttributes && lastPhase !== state.phase) {
      lastPhase = state.phase;
      upsertSearchAttributes([
        { key: PHASE_KEY, value: state.phase },
        { key: COST_KEY, value: state.cost().usd },
      ]);
    }
    notifier.gatesOpened();
  };
  state.bossCallPermits = () => budget.allowance(BOSS_CALLS);
  installHandlers(state, budget, publish);
  board.install(state, publish);
  installToolApprovals(state, publish);
  if (input.searchAttributes) {
    upsertSearchAttributes([
      { key: RUN_KEY, value: runId },
      { key: ROLES_KEY, value: input.roles.map((r) => r.name) },
    ]);
  }

  /** Opens the budget gate when the cap is reached; false when a person said stop. */
  const budgetGate = async (): Promise<boolean> => {
    if (!state.overBudget()) return true;
    if (state.spendingStopped) {
      // The top run was stopped at its budget gate: this sub-run stops too, keeping what is done.
      budget.stop();
      return false;
    }
    const policy = gatePolicy(input, 'budget');
    const cost = state.cost();
    // Callers await this gate one at a time, so a new one is opened each time the cap is hit.
    const gate = state.book.open(
      'budget',
      `the run reached its budget ($${cost.usd.toFixed(4)}, ${cost.tokens} tokens): raise it, approve to extend it by the original amount, or reject to stop and keep what is done`,
      policy,
    );
    publish();
    const d = await awaitGate(state.book, gate, policy);
    if (d.decision === 'reject') {
      budget.stop();
      return false;
    }
    // An approval extends every limit the run has by its original amount (raiseBudget may have
    // already made room, then nothing is added).
    if (state.overBudget() && state.budget && input.budget) {
      const b = state.budget;
      if (input.budget.usd !== undefined && b.usd !== undefined) b.usd += input.budget.usd;
      if (input.budget.tokens !== undefined && b.tokens !== undefined) b.tokens += input.budget.tokens;
      state.book.log({
        by: d.by,
        action: 'extend-budget',
        comment: 'extended by the original budget at the budget gate',
      });
    }
    budget.pump();
    return true;
  };

  try {
    publish();
    // Repo runs: a forged repository input fails before anything is paid for.
    const repoProblem = input.repo !== undefined ? repoInputProblem(input.repo) : undefined;
    if (repoProblem)
      throw ApplicationFailure.create({
        type: FailureType.BadInput,
        message: `the run's repository input is invalid: ${repoProblem}`,
        nonRetryable: true,
      });
    const plan = carried ? carried.state.plan : await planWithApproval(state, limits.maxReplans, budgetGate, publish);
    state.phase = 'executing';
    publish();
    const execute = (resume?: SchedulerCarry) =>
      executeTickets({
        state,
        plan,
        maxParallel: limits.maxParallel,
        maxRevisions: limits.maxRevisions,
        ...(input.maxReopens !== undefined ? { maxReopens: input.maxReopens } : {}),
        budgetGate,
        budgeted: input.budget !== undefined || input.epic?.parentBudget === true,
        waitingForPermit: () => budget.waiting(),
        forget: (id) => budget.forget(id),
        released: () => budget.released(),
        publish,
        historyFull: () => historyFull(input.maxHistoryEvents),
        firstGrant: (ticket) => budget.firstGrant(ticket),
        ...(resume ? { resume } : {}),
      });
    /** A quiet point past the history bound: no child in flight; everything else travels. */
    const carryOn = async (end: SchedulerCarry): Promise<never> => {
      await notifier.drain();
      await budget.drain?.();
      await condition(allHandlersFinished);
      const { continued: _previous, ...rest } = input as RunInput & ContinuedInput;
      const next: RunInput & ContinuedInput = {
        ...rest,
        continued: {
          generation: (carried?.generation ?? 0) + 1,
          state: state.snapshot(),
          scheduler: end,
          notified: notifier.toldPending(),
        },
      };
      return await continueAsNew<typeof orchestratorWorkflow>(next);
    };
    let end = await execute(carried?.scheduler);
    if (typeof end === 'object') return await carryOn(end);
    // Repo runs: the repository's tests on the integrated branch; a failing commit's ticket is
    // re-opened (bounded by --max-reopens) and the tickets run again, then the run goes on honestly.
    const maxReopens = input.maxReopens ?? DEFAULT_LIMITS.maxReopens;
    for (
      let again = state.branch && end === 'done' ? await verifyBranch(state, maxReopens, publish) : undefined;
      again;
    ) {
      end = await execute({ retryFeedback: [again], gateWaits: [] });
      if (typeof end === 'object') return await carryOn(end);
      again = end === 'done' ? await verifyBranch(state, maxReopens, publish) : undefined;
    }
    if (end === 'stopped' || !(await budgetGate()))
      return await finish(state, stoppedReport(state), 'stopped', publish, notifier);
    if (keepsGatePromises()) failIfNothingAccepted(state);

    state.phase = 'finalizing';
    publish();
    let report = await writeReport(state, plan, budgetGate);
    if (input.finalApproval === 'manual') {
      for (let round = 1; ; round++) {
        const policy = gatePolicy(input, 'final');
        const gate = state.book.open(
          'final',
          `approve the result: ${report.headline}${state.branch ? `\n${branchSection(state.branch)}` : ''}`,
          policy,
        );
        publish();
        const d = await awaitGate(state.book, gate, policy);
        if (d.decision === 'approve') break;
        // A timeout never asks for a revision (see gate-timeouts.ts); a person gets one.
        if (d.timedOut || round > 1 || !(await budgetGate()))
          return await finish(state, report, 'rejected', publish, notifier);
        report = await writeReport(
          state,
          plan,
          budgetGate,
          `A person (${d.by}) rejected the report: ${d.comment ?? 'no reason given'}`,
        );
      }
    }
    return await finish(state, report, undefined, publish, notifier);
  } catch (err) {
    if (isCancellation(err)) {
      // Nobody needs to decide on a cancelled run: its gates close so the status shows none pending.
      for (const g of state.book.pending()) {
        const decision = g.kind === 'ticket' ? 'skip' : 'reject';
        state.book.settle(g, { decision, by: 'maestro', comment: 'the run was cancelled' }, 'rejected');
      }
    }
    // A cancelled run reads as cancelled (its phase), not as an error ("Workflow canceled").
    state.phase = isCancellation(err) ? 'cancelled' : 'failed';
    if (!isCancellation(err)) state.error = err instanceof Error ? err.message : String(err);
    keepBillInMemo(state);
    publish();
    const tickets = state.ticketViews();
    await notifier.runEnded({
      phase: state.phase,
      accepted: tickets.filter(acceptedOnMerits).length,
      tickets: tickets.length,
      error: state.error,
    });
    throw err;
  }
}

/**
 * The Boss's final report. When the Boss cannot write it (even after retries), the run still
 * ends with its work: a plain report made from the tickets, and the reason in the audit log.
 */
async function writeReport(
  state: RunState,
  plan: Plan,
  budgetGate: () => Promise<boolean>,
  feedback?: string,
): Promise<FinalReport> {
  const report = await writeBossReport(state, plan, budgetGate, feedback);
  // Repo runs: the report shows the branch, its diffstat and the tests on it, whatever the Boss wrote.
  return state.branch ? { ...report, summary: `${report.summary}\n\n${branchSection(state.branch)}` } : report;
}

async function writeBossReport(
  state: RunState,
  plan: Plan,
  budgetGate: () => Promise<boolean>,
  feedback?: string,
): Promise<FinalReport> {
  for (let restarts = 0; ; restarts++) {
    try {
      return await bossReport(state, plan, feedback);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = rootCause(err);
      state.bookBossActivity({ failedCalls: failedCalls(cause) });
      // The budget's permits ran out before the report was done: past the budget gate, ask again.
      if (isPermitsUsedUp(cause) && restarts < BOSS_CALLS && (await budgetGate())) continue;
      const problem = cause.message;
      state.book.log({ by: 'maestro', action: 'report-fallback', error: problem });
      const tickets = state.ticketViews();
      return {
        headline: `${tickets.filter(acceptedOnMerits).length} of ${tickets.length} tickets accepted (report written without the Boss)`,
        summary: `The Boss could not write the final report (${problem}). Tickets:\n${tickets.map((t) => `- ${t.id} ${t.title}: ${ticketStateLabel(t)}${t.summary ? ` — ${t.summary}` : ''}`).join('\n')}`,
        followUps: tickets.filter((t) => !acceptedOnMerits(t)).map((t) => `${t.id} ${t.title}: ${ticketStateLabel(t)}`),
      };
    }
  }
}

async function bossReport(state: RunState, plan: Plan, feedback?: string): Promise<FinalReport> {
  await state.bossPermit();
  const final = await boss.finalizeRun.executeWithOptions(
    {
      summary: `boss final report${feedback ? ' (revision)' : ''}${state.input.bossModel ? ` (${state.input.bossModel})` : ''}`,
      ...llmTimeouts(state.input.llmTimeoutMs),
    },
    [
      {
        runId: state.runId,
        goal: state.input.goal,
        planSummary: plan.summary,
        tickets: state
          .ticketViews()
          // The Boss reads `accepted over failing checks`, so its report cannot call it delivered.
          .map((t) => ({ id: t.id, role: t.role, title: t.title, state: ticketStateLabel(t), summary: t.summary })),
        files: state.files().map((f) => f.path),
        ...(feedback ? { feedback } : {}),
        ...callPermitsField(state.bossCallPermits()),
      },
    ],
  );
  state.bookBossActivity(final);
  return final.report;
}

async function finish(
  state: RunState,
  report: FinalReport,
  status: RunResult['status'] | undefined,
  publish: () => void,
  notifier: RunNotifier,
): Promise<RunResult> {
  state.phase = status === 'stopped' ? 'stopped' : 'completed';
  publish();
  await notifier.runEnded(RunNotifier.endOf(state.result(report, status)));
  await condition(allHandlersFinished);
  return await offloadLargeParts(state.result(report, status));
}

/**
 * A run none of whose tickets was accepted produced nothing: it fails (saying what became of each
 * ticket) rather than ending `completed` with no files and a Boss report about nothing.
 */
function failIfNothingAccepted(state: RunState): void {
  const tickets = state.ticketViews();
  if (tickets.some((t) => t.state === 'accepted')) return;
  throw ApplicationFailure.create({
    type: FailureType.NothingProduced,
    message: `no ticket was accepted, so the run produced nothing: ${tickets.map((t) => `${t.id} ${t.state}${t.error ? ` (${t.error})` : ''}`).join('; ')}`,
    nonRetryable: true,
  });
}

/** A report written without the Boss when a person stopped spending: nothing more is paid for. */
function stoppedReport(state: RunState): FinalReport {
  const tickets = state.ticketViews();
  const accepted = tickets.filter((t) => t.state === 'accepted');
  return {
    headline: `Stopped at the budget: ${accepted.length} of ${tickets.length} tickets accepted`,
    summary: `The run reached its budget and a person chose to stop. Kept: ${accepted.map((t) => `${t.id} ${t.title}`).join('; ') || 'nothing'}.`,
    followUps: tickets.filter((t) => t.state !== 'accepted').map((t) => `${t.id} ${t.title}: ${t.state}`),
  };
}
