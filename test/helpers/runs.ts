/** Helpers for tests that drive whole runs: wait for a status condition, start with a worker. */
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { statusQuery } from '../../src/shared/messages';
import type { RunStatus } from '../../src/shared/types';

/** Polls the run's status query until `predicate` holds (or fails after `timeoutMs`). */
export async function waitForStatus(
  client: Client,
  runId: string,
  predicate: (s: RunStatus) => boolean,
  timeoutMs = 30_000,
  what = 'the expected state',
): Promise<RunStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await client.workflow.getHandle(runId).query(statusQuery);
      if (predicate(last)) return last;
    } catch {
      // not started yet, or no worker: try again
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `run ${runId} did not reach ${what} in ${timeoutMs} ms; last status: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`,
  );
}

/** Replays a recorded history against the suite's workflow bundle (fails on non-determinism). */
export function replayOnTestBundle(
  history: Parameters<typeof Worker.runReplayHistory>[1],
  workflowId: string,
): Promise<void> {
  return Worker.runReplayHistory(
    { workflowBundle: { codePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE! } },
    history,
    workflowId,
  );
}
