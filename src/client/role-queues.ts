/**
 * Warns when a role has its own task queue and no worker polls it: that role's tickets would
 * wait (and, after the run's queue wait, stop at a ticket gate). `maestro run` and `watch` print
 * these lines so the person learns it at once, with the command that starts the missing worker.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RoleInfo } from '../shared/types';

/** What the check needs: a client, the namespace and the roles of the run. */
export interface RoleQueueCheck {
  client: Client;
  namespace: string;
  roles: readonly RoleInfo[];
}

/** One warning line per role queue that no worker polls (none when every queue has a poller). */
export async function unpolledRoleQueueWarnings({ client, namespace, roles }: RoleQueueCheck): Promise<string[]> {
  const byQueue = new Map<string, string[]>();
  for (const r of roles) if (r.taskQueue) byQueue.set(r.taskQueue, [...(byQueue.get(r.taskQueue) ?? []), r.name]);
  const warnings: string[] = [];
  for (const [queue, names] of byQueue) {
    try {
      const res = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: queue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      if ((res.pollers ?? []).length > 0) continue;
    } catch {
      // Cannot tell (permissions, server version): say nothing rather than something wrong.
      continue;
    }
    warnings.push(
      `Warning: no worker polls task queue "${queue}" (role ${names.join(', ')}): those tickets wait, then stop at a ticket gate. Start one with \`maestro worker --roles ${names.join(',')}\`.`,
    );
  }
  return warnings;
}
