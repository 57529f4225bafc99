/**
 * Named activity option profiles. LLM calls can take minutes, so they heartbeat and get a long
 * start-to-close timeout; retries are Temporal's (the openai client makes one attempt) and stop
 * at once for failures that retrying cannot fix.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURES } from '../shared/errors';

/** Options for every LLM-calling activity. */
export const LLM_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  },
};
