/**
 * One ticket as a child workflow: the role works, the Boss reviews, and the loop repeats with
 * the feedback at most `maxRevisions` times. A ticket that is still not accepted is returned as
 * "escalated" for the orchestrator to decide on; children never wait for humans. The role's
 * work runs on the role's own task queue and retry policy when it has them.
 */
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { ticketStatusQuery, type TicketProgress } from '../shared/messages';
import type { ArtifactRef, LlmCallRecord, TicketInput, TicketOutcome } from '../shared/types';
import type { RepoTestResult } from '../shared/repo';
import type { ReviewDependency } from '../activities/roles/boss';
import { summaryText } from '../shared/model-text';
import { repo, repoTestCheck } from './repo-branch';
import { checksOf, countsAsCheck, isAgent } from '../shared/tool-checks';
import type { ToolCallRecord } from '../shared/tools';
import { addUsage, emptyUsage } from '../shared/usage';
import { LLM_ACTIVITY, llmTimeouts, roleActivityOptions, roleRetryPolicy } from './activity-options';
import { agentPermitsWanted, callPermitsField } from './permit-calls';
import { queueWaitOption, unpolledQueueFailure } from './role-queue';
import { runAgentAttempt } from './agent-attempt';
import { executorPermitsWanted, executorRetry, runExecutorAttempt } from './executor-attempt';
import { hasExecutor } from '../shared/executor-settings';
import type { AgentLoopOutput } from './agent-loop';
import { reopenOnFailedCheck, reopenRequests } from './reopen';
import { TicketSpending } from './ticket-spending';
import { ticketFailure } from './failures';
import { onQuery } from './message-handlers';

const { performTicket, reviewTicket } = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

function outcomeUsage(p: TicketProgress, calls: readonly LlmCallRecord[], toolCalls: ToolCallRecord[]) {
  return {
    reviews: p.reviews,
    workUsage: p.workUsage,
    reviewUsage: p.reviewUsage,
    calls: [...calls],
    // Only agent tickets have tool calls; outcomes of other tickets keep their recorded shape.
    ...(toolCalls.length > 0 ? { toolCalls } : {}),
  };
}

/** What the review of an agent attempt sees of its checks, and the dependencies a failing one may send back. */
function reviewChecks(input: TicketInput, calls: readonly ToolCallRecord[]) {
  const checks = checksOf(calls);
  // A call that never ran (the agent's own mistake, a tool this worker lacks) is no evidence.
  const deps = calls.some(countsAsCheck) ? input.dependencies : [];
  return {
    checks,
    ...(deps.length > 0
      ? {
          dependencies: deps.map((d) => ({
            ticketId: d.ticketId,
            role: d.role,
            title: d.title,
            files: d.artifacts.map((a) => a.path),
          })),
        }
      : {}),
  };
}

/** Runs the repository's tests on the ticket's tree (its files over its start). */
async function testTicket(input: TicketInput, files: ArtifactRef[], attempt: number): Promise<RepoTestResult> {
  return repo.repoTests.executeWithOptions(
    { summary: `repo tests on ${input.ticket.id} attempt ${attempt}: ${summaryText(input.repo!.testCommand!)}` },
    [
      {
        runId: input.runId,
        ticketId: input.ticket.id,
        snapshot: input.repo!.start,
        own: files,
        testCommand: input.repo!.testCommand!,
      },
    ],
  );
}

/** ` (model)` for activity summaries when the model is known. */
function modelLabel(model: string | undefined): string {
  return model ? ` (${model})` : '';
}

/**
 * Executes and reviews one ticket, bounded by `maxRevisions` and by its budget (checked before
 * every call, so it is passed by at most one call). In a budgeted run every LLM activity waits
 * for the run's permits and makes no more HTTP calls than granted (see ticket-spending.ts).
 */
export async function ticketWorkflow(input: TicketInput): Promise<TicketOutcome> {
  const spending = new TicketSpending(input);
  try {
    return await runTicket(input, spending);
  } catch (err) {
    // A cancelled ticket tells the run what its batch in hand cost; a failed one lists every call it made.
    if (isCancellation(err)) await spending.reportOnCancel();
    throw ticketFailure(err, spending.callsMade());
  }
}

/** The work-and-review loop of ticketWorkflow. */
async function runTicket(input: TicketInput, spending: TicketSpending): Promise<TicketOutcome> {
  const { ticket } = input;
  const progress: TicketProgress = {
    ticketId: ticket.id,
    attempt: 0,
    stage: 'working',
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
    ...(input.role?.executor ? { executor: input.role.executor.agent } : {}),
  };
  onQuery(ticketStatusQuery, () => progress);
  const toolCalls: ToolCallRecord[] = [];
  const workOptions = roleActivityOptions(input.role);
  const workRetry = roleRetryPolicy(input.role);
  const reviewRetry = roleRetryPolicy(undefined);
  /** The ticket ends escalated after `attempts`, for the reason in `why`. */
  const escalated = (attempts: number, why: Pick<TicketOutcome, 'escalation' | 'reopen' | 'escalationReason'>) => {
    progress.stage = 'done';
    const outcome: TicketOutcome = {
      ticketId: ticket.id,
      status: 'escalated',
      ...why,
      attempts,
      ...last,
      ...outcomeUsage(progress, spending.callsMade(), toolCalls),
    };
    return outcome;
  };
  const outOfBudget = (attempts: number) => escalated(attempts, { escalation: 'budget' });

  let feedback: string | undefined = input.initialFeedback;
  let last = { summary: '', artifacts: [] as TicketOutcome['artifacts'] };
  const maxAttempts = input.maxRevisions + 1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    progress.attempt = attempt;
    progress.stage = 'working';
    if (spending.exhausted()) return outOfBudget(attempt - 1);
    // A role with a coding-agent CLI runs it (one activity per attempt); a role with tools works
    // as an agent loop (a child per attempt); others make one call.
    const work = hasExecutor(input.role)
      ? await spending.run(
          'work',
          executorRetry(input),
          ({ callPermits, retry }) =>
            runExecutorAttempt({
              input,
              feedback,
              attempt,
              previous: last.artifacts,
              ...(callPermits !== undefined ? { callPermits } : {}),
              ...(retry ? { retry } : {}),
            }),
          executorPermitsWanted(input),
        )
      : isAgent(input.role?.agent)
        ? await spending.runAttempt<AgentLoopOutput>(
            'work',
            agentPermitsWanted(input.role?.agent?.maxTurns),
            (permits) =>
              runAgentAttempt({
                input,
                feedback,
                attempt,
                spent: addUsage(progress.workUsage, progress.reviewUsage),
                ...permits,
              }),
          )
        : await spending
            .run('work', workRetry, ({ callPermits, retry }) =>
              performTicket.executeWithOptions(
                {
                  summary: `${ticket.role} ${ticket.id} attempt ${attempt}${modelLabel(input.role?.model)}`,
                  ...workOptions,
                  ...llmTimeouts(input.llmTimeoutMs, workRetry),
                  ...queueWaitOption(input.role, input.queueWaitMs),
                  ...(retry ? { retry } : {}),
                },
                [
                  {
                    runId: input.runId,
                    ticket,
                    dependencies: input.dependencies,
                    feedback,
                    attempt,
                    ...callPermitsField(callPermits),
                    ...(input.repo ? { repo: input.repo } : {}),
                  },
                ],
              ),
            )
            .catch((err: unknown) => {
              throw unpolledQueueFailure(err, input.role, input.queueWaitMs) ?? err;
            });
    progress.workUsage = addUsage(progress.workUsage, work.usage);
    if ('toolCalls' in work) toolCalls.push(...work.toolCalls);
    last = { summary: work.summary, artifacts: work.artifacts };
    if ('escalation' in work && work.escalation) {
      progress.stage = 'done';
      const { escalation, reason } = work;
      return {
        ticketId: ticket.id,
        status: 'escalated',
        escalation,
        ...(reason ? { escalationReason: reason } : {}),
        attempts: attempt,
        ...last,
        ...outcomeUsage(progress, spending.callsMade(), toolCalls),
      };
    }
    if (spending.exhausted()) return outOfBudget(attempt);

    progress.stage = 'reviewing';
    const checked: { checks?: string[]; dependencies?: ReviewDependency[] } =
      'toolCalls' in work ? reviewChecks(input, work.toolCalls) : {};
    // Repo runs: the repository's own tests on the ticket's tree; the review sees how they went.
    const tested = input.repo?.testCommand ? await testTicket(input, work.artifacts, attempt) : undefined;
    const reviewed = await spending.run('review', reviewRetry, ({ callPermits, retry }) =>
      reviewTicket.executeWithOptions(
        {
          summary: `review ${ticket.id} attempt ${attempt}${modelLabel(input.bossModel)}`,
          ...llmTimeouts(input.llmTimeoutMs, reviewRetry),
          ...(retry ? { retry } : {}),
        },
        [
          {
            runId: input.runId,
            ticket,
            summary: work.summary,
            artifacts: work.artifacts,
            attempt,
            revisionsLeft: maxAttempts - attempt,
            ...checked,
            ...(input.testFailure ? { testFailure: input.testFailure } : {}),
            // Repo tickets: the review reads the diff against the start and the repository's tests.
            ...(input.repo ? { repo: { work: input.repo, ...(tested ? { tests: tested } : {}) } } : {}),
            ...callPermitsField(callPermits),
          },
        ],
      ),
    );
    const { review } = reviewed;
    progress.reviewUsage = addUsage(progress.reviewUsage, reviewed.usage);
    progress.reviews.push({ attempt, verdict: review.verdict, feedback: review.feedback });
    // Only a review that was shown the dependencies (the ticket ran checks) may send them back.
    const reopen =
      review.verdict === 'accept' || !('dependencies' in checked)
        ? []
        : reopenOnFailedCheck('toolCalls' in work ? work.toolCalls : [], reopenRequests(input, review.reopen));
    // The Boss found a dependency at fault: the run re-opens it, then runs this ticket again.
    if (reopen.length > 0)
      return escalated(attempt, { escalation: 'reopen', reopen, escalationReason: review.feedback });
    if (review.verdict === 'accept') {
      progress.stage = 'done';
      return {
        ticketId: ticket.id,
        status: 'accepted',
        attempts: attempt,
        ...last,
        ...outcomeUsage(progress, spending.callsMade(), toolCalls),
      };
    }
    feedback =
      review.feedback || 'The reviewer asked for a revision without details: check every acceptance criterion again.';
    // The worker sees the failing tests' output itself, not only the reviewer's words about it.
    if (tested && !tested.passed) feedback = `${feedback}\n\n${repoTestCheck(tested)}`;
  }
  progress.stage = 'done';
  return {
    ticketId: ticket.id,
    status: 'escalated',
    escalation: 'revisions',
    attempts: maxAttempts,
    ...last,
    ...outcomeUsage(progress, spending.callsMade(), toolCalls),
  };
}
