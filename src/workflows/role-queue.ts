/**
 * A role with its own task queue that no worker polls would leave its tickets waiting silently
 * forever. Its work activity gets a schedule-to-start timeout instead; when it passes, the
 * ticket fails with a reason that names the queue and the command that starts a worker, and the
 * run opens a ticket gate with it (retry once a worker runs, skip, or abort).
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/errors';
import type { RoleInfo } from '../shared/types';

/** How long a role's work may wait on the role's own queue for a worker, unless the run says. */
export const DEFAULT_QUEUE_WAIT_MS = 5 * 60_000;

/** The schedule-to-start timeout of a role's work: only when the role has its own queue. */
export function queueWaitOption(
  role: RoleInfo | undefined,
  waitMs: number | undefined,
): { scheduleToStartTimeout?: number } {
  return role?.taskQueue ? { scheduleToStartTimeout: waitMs ?? DEFAULT_QUEUE_WAIT_MS } : {};
}

/** The failure to report when `err` is the work activity's schedule-to-start timeout; else undefined. */
export function unpolledQueueFailure(
  err: unknown,
  role: RoleInfo | undefined,
  waitMs: number | undefined,
): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!role?.taskQueue || !(cause instanceof TimeoutFailure) || cause.timeoutType !== 'SCHEDULE_TO_START')
    return undefined;
  const waited = Math.round((waitMs ?? DEFAULT_QUEUE_WAIT_MS) / 1000);
  return ApplicationFailure.create({
    type: FailureType.RoleQueueUnpolled,
    message: `no worker polls task queue "${role.taskQueue}" of role ${role.name} (the work waited ${waited} s without starting): start one with \`maestro worker --roles ${role.name}\`, then retry the ticket`,
    nonRetryable: true,
  });
}
