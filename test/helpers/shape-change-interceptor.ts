/**
 * A workflow interceptor that changes every workflow's shape (a 1 ms timer before its code runs),
 * bundled only by the replay test: each kept history must fail to replay against it, which proves
 * the replay really compares the recorded commands with the code's (an empty or unreadable fixture
 * would not notice a change).
 */
import { sleep, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** Inserts the timer in front of every workflow execution. */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        await sleep(1);
        return next(input);
      },
    },
  ],
});
