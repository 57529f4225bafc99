/**
 * Planning: the Boss plans until the plan is a valid DAG over known roles (bounded re-plans),
 * then, with manual plan approval, a person approves it or rejects it with a comment that goes
 * back to the Boss (bounded too).
 */
import { ApplicationFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { DEFAULT_LIMITS } from '../shared/constants';
import { FailureType } from '../shared/errors';
import { validatePlan } from '../shared/plan-graph';
import type { Plan } from '../shared/schemas';
import { LLM_ACTIVITY } from './activity-options';
import { failedCalls, isBadOutput, isConfigError, rootCause } from './failures';
import { awaitGate } from './gates';
import { gatePolicy } from './policies';
import { BOSS_ROLE, type RunState } from './run-state';

const boss = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

/** Patch marker: a Boss answer that never validates counts as an invalid plan (runs before it asked a person). */
const BAD_OUTPUT_IS_INVALID_PLAN = 'bad-output-is-invalid-plan';

/** Runs before each Boss call: resolves false when a person stopped the run at the budget gate. */
export type BudgetCheck = () => Promise<boolean>;

/** Produces an approved plan, or fails the run with why not. */
export async function planWithApproval(
  state: RunState,
  maxReplans: number,
  budgetOk: BudgetCheck,
  publish: () => void,
): Promise<Plan> {
  let humanFeedback: string | undefined;
  for (let round = 1; ; round++) {
    const plan = await validPlan(state, maxReplans, humanFeedback, budgetOk, publish);
    state.adoptPlan(plan);
    if (state.input.planApproval !== 'manual') return plan;
    const policy = gatePolicy(state.input, 'plan');
    const gate = state.book.open('plan', `approve the plan of ${plan.tickets.length} tickets: ${plan.summary}`, policy);
    publish();
    const outcome = await awaitGate(state.book, gate, policy);
    publish();
    if (outcome.decision === 'approve') return plan;
    if (round > maxReplans) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidPlan,
        message: `the plan was rejected ${round} times (last by ${outcome.by}: ${outcome.comment ?? 'no comment'}); start a new run with a clearer goal`,
        nonRetryable: true,
      });
    }
    humanFeedback = `A person (${outcome.by}) rejected your previous plan: ${outcome.comment ?? 'no reason given'}. Plan again and address this.`;
  }
}

/** Asks the Boss for a plan until it is valid, at most 1 + maxReplans times. */
async function validPlan(
  state: RunState,
  maxReplans: number,
  humanFeedback: string | undefined,
  budgetOk: BudgetCheck,
  publish: () => void,
): Promise<Plan> {
  const roles = state.input.roles;
  let problems: string[] | undefined = humanFeedback ? [humanFeedback] : undefined;
  for (let attempt = 1; attempt <= maxReplans + 1; attempt++) {
    if (!(await budgetOk())) {
      throw ApplicationFailure.create({
        type: FailureType.BudgetStopped,
        message: 'the run was stopped at the budget gate before a plan was made',
        nonRetryable: true,
      });
    }
    state.planAttempts++;
    let res;
    try {
      res = await boss.planGoal.executeWithOptions(
        {
          summary: `boss plan attempt ${state.planAttempts}${state.input.bossModel ? ` (${state.input.bossModel})` : ''}`,
        },
        [
          {
            runId: state.runId,
            goal: state.input.goal,
            roles,
            maxTickets: DEFAULT_LIMITS.maxTickets,
            problems,
            attempt: state.planAttempts,
          },
        ],
      );
    } catch (err) {
      // A configuration error needs a fix, not a person's approval: report it and end.
      const cause = rootCause(err);
      state.chargeFailedCalls(failedCalls(cause));
      if (isCancellation(err) || isConfigError(cause)) throw err;
      // The model answered, but never with a valid plan even after its retries (a small local
      // model, say): that is a bad plan, bounded by maxReplans, not an outage to wait out.
      if (isBadOutput(cause) && patched(BAD_OUTPUT_IS_INVALID_PLAN)) {
        problems = [cause.message];
        continue;
      }
      await askToRetryPlanning(state, cause.message, publish);
      attempt--; // the failed call does not count as a bad plan
      continue;
    }
    state.spend(BOSS_ROLE, res.usage);
    state.recordCalls(res.calls);
    problems = validatePlan(
      res.plan,
      roles.map((r) => r.name),
      DEFAULT_LIMITS.maxTickets,
    );
    if (problems.length === 0) return res.plan;
    if (humanFeedback) problems.unshift(humanFeedback);
  }
  throw ApplicationFailure.create({
    type: FailureType.InvalidPlan,
    message: `the Boss produced no valid plan in ${maxReplans + 1} attempts; last problems: ${(problems ?? []).join('; ')}`,
    nonRetryable: true,
  });
}

/**
 * The Boss's call failed even after its retries (provider down, answers that never validate):
 * the run waits for a person instead of dying, and tries again when they approve.
 */
async function askToRetryPlanning(state: RunState, problem: string, publish: () => void): Promise<void> {
  const policy = gatePolicy(state.input, 'plan');
  const gate = state.book.open(
    'plan',
    `planning failed: ${problem} — approve to try again, reject to end the run`,
    policy,
  );
  publish();
  const d = await awaitGate(state.book, gate, policy);
  publish();
  if (d.decision !== 'approve') {
    throw ApplicationFailure.create({
      type: FailureType.InvalidPlan,
      message: `planning failed (${problem}) and ${d.by} chose to end the run`,
      nonRetryable: true,
    });
  }
}
