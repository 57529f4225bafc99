/**
 * What the watcher reads of a workflow's pending activities (one describe per workflow, at most a
 * few per poll): each activity's type, attempt, the message of its last failure and its heartbeat
 * details decoded with the client's data converter (so payload codecs, encryption included, still
 * apply). Shared by the coding-agent CLI progress, the live LLM progress and the retry lines; all
 * of it was written by a worker (and the failure text partly by a model or its server), so the
 * readers check every field before they show it.
 */
import type { Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';

/** One pending activity, decoded (nothing checked yet beyond its own types). */
export interface PendingActivity {
  type: string;
  /** Attempt in progress (1 for the first). */
  attempt: number;
  /** Retry limit of its policy (0 or absent: unlimited). */
  maximumAttempts?: number;
  /** Message of the failure that ended the previous attempt. */
  lastFailure?: string;
  /** First heartbeat detail (undefined when none, or when it could not be decoded). */
  details?: unknown;
}

/** A workflow to describe, under the key its views are returned by (a ticket id, `plan`). */
export interface DescribeTarget {
  key: string;
  workflowId: string;
}

/** What one describe says of a workflow's pending work. */
export interface PendingWork {
  activities: PendingActivity[];
  /** Ids of its pending child workflows (a ticket's agent loop, where its LLM turns run). */
  children: string[];
}

/** Largest attempt number read as one (a forged value is not an attempt). */
const MAX_ATTEMPT = 1e6;

const attemptOf = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_ATTEMPT ? v : undefined;

/** The pending activities of one describe answer (`raw.pendingActivities`), decoded. */
export async function pendingActivitiesOf(
  client: Client,
  raw: { pendingActivities?: readonly unknown[] | null },
): Promise<PendingActivity[]> {
  const converter = client.options.loadedDataConverter;
  const out: PendingActivity[] = [];
  for (const a of raw.pendingActivities ?? []) {
    const p = a as {
      activityType?: { name?: unknown } | null;
      attempt?: unknown;
      maximumAttempts?: unknown;
      lastFailure?: { message?: unknown } | null;
      heartbeatDetails?: { payloads?: Parameters<typeof decodeFromPayloadsAtIndex>[2] | null } | null;
    };
    const type = typeof p.activityType?.name === 'string' ? p.activityType.name : '';
    const attempt = attemptOf(p.attempt);
    if (!type || attempt === undefined) continue;
    let details: unknown;
    const payloads = p.heartbeatDetails?.payloads;
    if (payloads?.length)
      details = await decodeFromPayloadsAtIndex<unknown>(converter, 0, payloads).catch(() => undefined);
    const max = attemptOf(p.maximumAttempts);
    const failure = p.lastFailure?.message;
    out.push({
      type,
      attempt,
      ...(max !== undefined ? { maximumAttempts: max } : {}),
      ...(typeof failure === 'string' && failure ? { lastFailure: failure } : {}),
      ...(details !== undefined ? { details } : {}),
    });
  }
  return out;
}

/**
 * The pending activities of `max` targets from `start` (round the list), one describe each; a
 * describe that fails or is late leaves its target out.
 */
export async function describePending(
  client: Client,
  targets: readonly DescribeTarget[],
  deadline: () => number,
  max: number,
  start = 0,
): Promise<Record<string, PendingWork>> {
  const n = Math.min(max, targets.length);
  const picked = Array.from({ length: n }, (_, i) => targets[(start + i) % targets.length]!);
  const answers = await Promise.all(
    picked.map(async (t) => {
      try {
        const desc = await client.connection.withDeadline(deadline(), () =>
          client.workflow.getHandle(t.workflowId).describe(),
        );
        const children = (desc.raw.pendingChildren ?? [])
          .map((c) => c.workflowId)
          .filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 1000);
        return [t.key, { activities: await pendingActivitiesOf(client, desc.raw), children }] as const;
      } catch {
        return undefined;
      }
    }),
  );
  return Object.fromEntries(answers.filter((a) => a !== undefined));
}
