/**
 * Planning: the Boss plans until the plan is a valid DAG over known roles (bounded re-plans),
 * then, with manual plan approval, a person approves it or rejects it with a comment that goes
 * back to the Boss (bounded too).
 */
import { ApplicationFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { DEFAULT_LIMITS } from '../shared/constants';
import { EPIC_ROLE_INFO, mayPlanEpics } from '../shared/epics';
import { FailureType } from '../shared/errors';
import { validatePlan } from '../shared/plan-graph';
import { repoPlanProblems } from '../shared/repo-paths';
import type { Plan } from '../shared/schemas';
import { LLM_ACTIVITY, llmTimeouts } from './activity-options';
import { BOSS_CALLS, callPermitsField, isPermitsUsedUp } from './budget';
import { failedCalls, isBadOutput, isBudgetStopped, isConfigError, rootCause } from './failures';
import { awaitGate } from './gates';
import { EPICS_PATCH, keepsGatePromises } from './patches';
import { gatePolicy } from './policies';
import { addReplan, callFailedReason, invalidPlanReason, settledFailure } from './replans';
import type { RunState } from './run-state';

const boss = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

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
    if (outcome.timedOut) {
      // A timeout never sends work back: re-planning on nobody's behalf could loop.
      throw ApplicationFailure.create({
        type: FailureType.GateTimedOut,
        message: `the plan gate (${gate.id}) timed out without a decision and its policy is to reject the plan; start a new run`,
        nonRetryable: true,
      });
    }
    if (round > maxReplans) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidPlan,
        message: `the plan was rejected ${round} times (last by ${outcome.by}: ${outcome.comment ?? 'no comment'}); start a new run with a clearer goal`,
        nonRetryable: true,
      });
    }
    humanFeedback = `A person (${outcome.by}) rejected your previous plan: ${outcome.comment ?? 'no reason given'}. Plan again and address this.`;
    addReplan(
      state.replans,
      state.planAttempts + 1,
      `the plan was rejected by ${outcome.by}${outcome.comment ? ` — "${outcome.comment}"` : ''}`,
    );
  }
}

/**
 * Asks the Boss for a plan until it is valid, at most 1 + maxReplans times: invalid plans, answers
 * that never matched the schema and failed calls all count, so planning that keeps failing ends
 * the run (with the last problems) instead of asking again forever.
 */
async function validPlan(
  state: RunState,
  maxReplans: number,
  humanFeedback: string | undefined,
  budgetOk: BudgetCheck,
  publish: () => void,
): Promise<Plan> {
  // A Boss that may plan epics sees them as one more role: `boss`, run by a sub-Boss (epics.ts).
  const roles =
    mayPlanEpics(state.input) && patched(EPICS_PATCH) ? [...state.input.roles, EPIC_ROLE_INFO] : state.input.roles;
  const attempts = maxReplans + 1;
  let problems: string[] | undefined = humanFeedback ? [humanFeedback] : undefined;
  let permitRestarts = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
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
      await state.bossPermit();
      res = await boss.planGoal.executeWithOptions(
        {
          summary: `boss plan attempt ${state.planAttempts}${state.input.bossModel ? ` (${state.input.bossModel})` : ''}`,
          ...llmTimeouts(state.input.llmTimeoutMs),
        },
        [
          {
            runId: state.runId,
            goal: state.input.goal,
            roles,
            maxTickets: DEFAULT_LIMITS.maxTickets,
            problems,
            attempt: state.planAttempts,
            ...callPermitsField(state.bossCallPermits()),
            // Repo runs only (older histories replay unchanged): the Boss plans from the map.
            ...(state.input.repo ? { repoMap: state.input.repo.map } : {}),
          },
        ],
      );
    } catch (err) {
      // A configuration error needs a fix, not a person's approval: report it and end.
      const cause = rootCause(err);
      state.bookBossActivity({ failedCalls: failedCalls(cause) });
      if (isCancellation(err) || isConfigError(cause) || isBudgetStopped(cause)) throw err;
      // The budget's permits ran out before the plan was done: past the budget check, ask again.
      if (isPermitsUsedUp(cause) && permitRestarts++ < BOSS_CALLS) {
        state.planAttempts--;
        attempt--;
        continue;
      }
      // Temporal gave up on the call: its message no longer promises a retry.
      const problem = settledFailure(cause.message);
      if (!keepsGatePromises()) {
        // Histories recorded before planning failures were bounded: ask, and do not count it.
        await askToRetryPlanning(state, problem, publish);
        addReplan(state.replans, state.planAttempts + 1, callFailedReason(cause.message, isBadOutput(cause)));
        attempt--;
        continue;
      }
      problems = [problem, ...(humanFeedback ? [humanFeedback] : [])];
      if (attempt === attempts) break;
      // An answer that never matched the schema is a bad plan: re-plan with the problem at once.
      // Anything else (provider down, refusal) waits for a person first.
      if (!isBadOutput(cause)) await askToRetryPlanning(state, problem, publish);
      addReplan(state.replans, state.planAttempts + 1, callFailedReason(cause.message, isBadOutput(cause)));
      continue;
    }
    state.bookBossActivity(res);
    problems = validatePlan(
      res.plan,
      roles.map((r) => r.name),
      DEFAULT_LIMITS.maxTickets,
    );
    if (state.input.repo) problems.push(...repoPlanProblems(res.plan));
    if (problems.length === 0) return res.plan;
    if (attempt < attempts) addReplan(state.replans, state.planAttempts + 1, invalidPlanReason(problems));
    if (humanFeedback) problems.unshift(humanFeedback);
  }
  throw ApplicationFailure.create({
    type: FailureType.InvalidPlan,
    message: `the Boss produced no valid plan in ${attempts} attempt${attempts === 1 ? '' : 's'} (--max-replans ${maxReplans}); last problems: ${(problems ?? []).join('; ')}`,
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
