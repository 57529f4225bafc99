/**
 * The live view of a run's pending activities, for `maestro watch` and `maestro run`: the
 * coding-agent CLIs' progress, the streaming LLM calls' progress (tokens, tokens/s) and the
 * retries in progress with their reasons. The run's own activities (the Boss's plan) come from the
 * describe the caller already made; each running ticket costs one describe (two for an agent
 * ticket, whose turns run in its agent-loop child), at most `max` tickets per poll, round the list.
 */
import type { Client } from '@temporalio/client';
import { parseExecutorProgress, type ExecutorProgressView } from './executor-progress';
import { parseLlmProgress, retryOf, type LlmProgressView, type RetryView } from './llm-progress';
import { describePending, type PendingActivity } from './pending-activities';

/** What the pending activities show right now. */
export interface LiveActivities {
  executors: Record<string, ExecutorProgressView>;
  /** By ticket id, or `plan` for the Boss's planning call. */
  llm: Record<string, LlmProgressView>;
  retries: RetryView[];
}

/** The key of the run's own activities: the plan, else the final report. */
const runKey = (a: PendingActivity) => (a.type === 'planGoal' ? 'plan' : 'report');

/** Adds what `activities` of `key` show to `into`. */
function collect(into: LiveActivities, key: string, activities: readonly PendingActivity[]): void {
  for (const a of activities) {
    if (a.type === 'runExecutor') {
      const view = parseExecutorProgress(a.details);
      if (view) into.executors[key] = { ...view, activityAttempt: a.attempt };
    } else {
      const llm = parseLlmProgress(a.details);
      if (llm) into.llm[key] = llm;
    }
    const retry = retryOf(key, a);
    if (retry) into.retries.push(retry);
  }
}

/** The live view of `runPending` (the run's own) and of `tickets` (`max` of them from `start`). */
export async function fetchLiveActivities(
  client: Client,
  runPending: readonly PendingActivity[],
  tickets: readonly { id: string; childId: string }[],
  deadline: () => number,
  max: number,
  start = 0,
): Promise<LiveActivities> {
  const live: LiveActivities = { executors: {}, llm: {}, retries: [] };
  for (const a of runPending) collect(live, runKey(a), [a]);
  if (tickets.length === 0) return live;
  const own = await describePending(
    client,
    tickets.map((t) => ({ key: t.id, workflowId: t.childId })),
    deadline,
    max,
    start,
  );
  // A ticket whose work runs in a child (an agent loop) shows that child's activities.
  const loops = Object.entries(own).flatMap(([key, w]) =>
    w.activities.length === 0 && w.children[0] ? [{ key, workflowId: w.children[0] }] : [],
  );
  const inLoops = loops.length > 0 ? await describePending(client, loops, deadline, loops.length) : {};
  for (const [key, w] of Object.entries(own))
    collect(live, key, [...w.activities, ...(inLoops[key]?.activities ?? [])]);
  return live;
}
