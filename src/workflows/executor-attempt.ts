/**
 * The ticket workflow's side of a coding-agent CLI attempt: one `runExecutor` activity per
 * attempt, on the role's queue, with a heartbeat timeout (a dead worker's attempt is started again
 * elsewhere within seconds, its space rebuilt from the store), a start-to-close of the CLI's wall
 * time plus set-up, and a finite number of starts. Roles without an executor never get here, so
 * histories recorded before replay unchanged.
 */
import {
  ActivityCancellationType,
  proxyActivities,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { MaestroActivities, RunExecutorOutput } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../shared/errors';
import { DEFAULT_EXECUTOR_WALL_MS, executorBounds } from '../shared/executor-settings';
import { MAX_PERMITS_PER_REQUEST } from '../shared/permit-grant';
import type { ArtifactRef, TicketInput } from '../shared/types';
import { callPermitsField } from './permit-calls';
import { queueWaitOption } from './role-queue';

/** Time an attempt gets beyond the CLI's wall time: materialising the space, storing the result. */
const SETUP_MARGIN_MS = 120_000;

const { runExecutor } = proxyActivities<MaestroActivities>({
  startToCloseTimeout: DEFAULT_EXECUTOR_WALL_MS + SETUP_MARGIN_MS,
  heartbeatTimeout: '30 seconds',
});

/** The retry policy of a role's CLI attempts: `maxRetries` more starts after a failure (always finite). */
export function executorRetry(input: TicketInput): RetryPolicy {
  const retries = executorBounds(input.role?.executor).maxRetries;
  return {
    initialInterval: 2_000,
    backoffCoefficient: 2,
    maximumInterval: 30_000,
    maximumAttempts: retries + 1,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  };
}

/** Calls an attempt asks the run's budget for: the role's maxCalls (bounded like every request). */
export function executorPermitsWanted(input: TicketInput): number {
  return Math.min(MAX_PERMITS_PER_REQUEST, executorBounds(input.role?.executor).maxCalls);
}

/** The CLI wall time of an attempt (its start-to-close is this plus set-up). */
export function executorWallMs(input: TicketInput): number {
  return executorBounds(input.role?.executor).wallMs;
}

/** Runs attempt `attempt` of `input.ticket` with its role's CLI, in the space left by `previous`. */
export function runExecutorAttempt(args: {
  input: TicketInput;
  feedback: string | undefined;
  attempt: number;
  previous: ArtifactRef[];
  callPermits?: number;
  retry?: RetryPolicy;
}): Promise<RunExecutorOutput> {
  const { input, attempt } = args;
  const wallMs = executorWallMs(input);
  const retry = args.retry ?? executorRetry(input);
  const options: ActivityOptions = {
    summary: `${input.ticket.role} ${input.ticket.id} attempt ${attempt} (${input.role?.executor?.agent ?? 'cli'})`,
    startToCloseTimeout: wallMs + SETUP_MARGIN_MS,
    heartbeatTimeout: '30 seconds',
    // A cancelled attempt answers with the calls its CLI made (CancelledFailure.details), which
    // the ticket books before it ends: waiting for that answer is what puts them on the bill.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry,
    ...(input.role?.taskQueue ? { taskQueue: input.role.taskQueue } : {}),
    ...queueWaitOption(input.role, input.queueWaitMs),
  };
  return runExecutor.executeWithOptions(options, [
    {
      runId: input.runId,
      ticket: input.ticket,
      dependencies: input.dependencies,
      ...(args.previous.length > 0 ? { previous: args.previous } : {}),
      ...(args.feedback !== undefined ? { feedback: args.feedback } : {}),
      attempt,
      ...callPermitsField(args.callPermits),
      ...(input.repo ? { repo: input.repo } : {}),
    },
  ]);
}
