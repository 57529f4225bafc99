/**
 * Who polls a task queue, as Temporal sees it: the identities of the workers that would pick up
 * a run's (or a file export's) workflow tasks. Used to tell a person which worker runs their
 * run, and to refuse waiting for a worker that is not there.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * A poller last seen longer ago than this is gone. Temporal lists a stopped worker for about five
 * minutes, while a live one polls again at least every ~70 s (the server's long-poll timeout).
 */
export const STALE_POLLER_MS = 2 * 60_000;

/** A worker that polled the queue recently. */
export interface QueuePoller {
  identity: string;
}

/** The workers polling `taskQueue` for workflow tasks (empty: nobody would run a workflow started there). */
export async function workflowPollers(
  client: Pick<Client, 'workflowService' | 'options'>,
  taskQueue: string,
  now = Date.now(),
): Promise<QueuePoller[]> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (res.pollers ?? [])
    .filter((p) => {
      const seconds = p.lastAccessTime?.seconds;
      return seconds == null || now - Number(seconds) * 1000 < STALE_POLLER_MS;
    })
    .map((p) => ({ identity: p.identity ?? '' }));
}
