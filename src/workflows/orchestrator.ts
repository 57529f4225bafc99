/**
 * The run: the Boss plans, tickets run as child workflows as soon as their dependencies are
 * accepted (at most `maxParallel` at once), the Boss writes the final report. Every loop here
 * is bounded: re-plans by `maxReplans`, revisions inside each child by `maxRevisions`.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { DEFAULT_LIMITS, ticketWorkflowId } from '../shared/constants';
import { FailureType } from '../shared/errors';
import { statusQuery } from '../shared/messages';
import { blockedTickets, readyTickets, validatePlan } from '../shared/plan-graph';
import type { Plan, Ticket } from '../shared/schemas';
import type { RunInput, RunResult } from '../shared/types';
import { LLM_ACTIVITY } from './activity-options';
import { BOSS_ROLE, RunState } from './run-state';
import { ticketWorkflow } from './ticket';

const boss = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

/** Runs a goal to a result; the workflow id is the run id. */
export async function orchestratorWorkflow(input: RunInput): Promise<RunResult> {
  const limits = {
    maxParallel: input.maxParallel ?? DEFAULT_LIMITS.maxParallel,
    maxRevisions: input.maxRevisions ?? DEFAULT_LIMITS.maxRevisions,
    maxReplans: input.maxReplans ?? DEFAULT_LIMITS.maxReplans,
  };
  const state = new RunState(workflowInfo().workflowId, input);
  setHandler(statusQuery, () => state.status());
  const publish = () => setCurrentDetails(state.details());

  try {
    const plan = await planGoal(state, limits.maxReplans);
    state.adoptPlan(plan);
    state.phase = 'executing';
    publish();
    await executeTickets(state, plan, limits, publish);

    state.phase = 'finalizing';
    publish();
    const final = await boss.finalizeRun.executeWithOptions({ summary: 'boss final report' }, [
      {
        runId: state.runId,
        goal: input.goal,
        planSummary: plan.summary,
        tickets: state
          .status()
          .tickets.map((t) => ({ id: t.id, role: t.role, title: t.title, state: t.state, summary: t.summary })),
        files: state.files().map((f) => f.path),
      },
    ]);
    state.spend(BOSS_ROLE, final.usage);
    state.phase = 'completed';
    publish();
    return state.result(final.report);
  } catch (err) {
    state.phase = 'failed';
    state.error = err instanceof Error ? err.message : String(err);
    publish();
    throw err;
  }
}

/** Asks the Boss for a plan until it is a valid DAG over known roles, at most 1 + maxReplans times. */
async function planGoal(state: RunState, maxReplans: number): Promise<Plan> {
  const roles = state.input.roles;
  let problems: string[] | undefined;
  for (let attempt = 1; attempt <= maxReplans + 1; attempt++) {
    state.planAttempts = attempt;
    const res = await boss.planGoal.executeWithOptions({ summary: `boss plan attempt ${attempt}` }, [
      { runId: state.runId, goal: state.input.goal, roles, maxTickets: DEFAULT_LIMITS.maxTickets, problems, attempt },
    ]);
    state.spend(BOSS_ROLE, res.usage);
    problems = validatePlan(
      res.plan,
      roles.map((r) => r.name),
      DEFAULT_LIMITS.maxTickets,
    );
    if (problems.length === 0) return res.plan;
  }
  throw ApplicationFailure.create({
    type: FailureType.InvalidPlan,
    message: `the Boss produced no valid plan in ${maxReplans + 1} attempts; last problems: ${(problems ?? []).join('; ')}`,
    nonRetryable: true,
  });
}

/** Starts ready tickets as children, up to maxParallel at a time, until none can start. */
async function executeTickets(
  state: RunState,
  plan: Plan,
  limits: { maxParallel: number; maxRevisions: number },
  publish: () => void,
): Promise<void> {
  const byId = new Map(plan.tickets.map((t) => [t.id, t]));
  let running = 0;
  let fatal: ApplicationFailure | undefined;

  const start = (ticket: Ticket) => {
    running++;
    state.mark(ticket.id, 'running');
    executeChild(ticketWorkflow, {
      workflowId: ticketWorkflowId(state.runId, ticket.id),
      staticSummary: `[${ticket.role}] ${ticket.id} ${ticket.title}`,
      staticDetails: ticketDetails(ticket),
      args: [
        {
          runId: state.runId,
          ticket,
          dependencies: state.dependencyOutputs(ticket.dependsOn),
          maxRevisions: limits.maxRevisions,
        },
      ],
    })
      .then((outcome) => state.complete(outcome))
      .catch((err: unknown) => {
        const cause = rootCause(err);
        state.mark(ticket.id, 'failed', cause.message);
        // A configuration error (bad key, unknown model) fails every ticket alike: stop the run.
        if (cause instanceof ApplicationFailure && cause.type === FailureType.LlmConfig) fatal ??= cause;
      })
      .finally(() => {
        running--;
        publish();
      });
  };

  for (;;) {
    const states = state.states();
    for (const id of blockedTickets(plan.tickets, states)) state.mark(id, 'blocked', 'a dependency was not accepted');
    if (!fatal) {
      const ready = readyTickets(plan.tickets, state.states());
      for (const id of ready.slice(0, Math.max(0, limits.maxParallel - running))) start(byId.get(id)!);
    }
    publish();
    if (running === 0) break;
    const seen = state.version;
    await condition(() => state.version !== seen);
  }
  if (fatal) {
    throw ApplicationFailure.create({
      type: fatal.type ?? FailureType.LlmConfig,
      message: fatal.message,
      nonRetryable: true,
    });
  }
}

function rootCause(err: unknown): Error {
  let e: unknown = err;
  while ((e instanceof ChildWorkflowFailure || e instanceof ActivityFailure) && e.cause) e = e.cause;
  return e instanceof Error ? e : new Error(String(e));
}

function ticketDetails(ticket: Ticket): string {
  const deps = ticket.dependsOn.length > 0 ? ticket.dependsOn.join(', ') : 'none';
  return `${ticket.spec}\n\n**Acceptance criteria**\n${ticket.acceptanceCriteria.map((c) => `- ${c}`).join('\n')}\n\n**Depends on:** ${deps}`;
}
