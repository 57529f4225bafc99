/**
 * Names shared by the client, the workers and the workflows. Changing one breaks running
 * deployments, so they live in one place.
 */

/** Task queue for workflows and Boss activities (role activities may use their own queues). */
export const DEFAULT_TASK_QUEUE = 'maestro';

/** Prefix of per-role task queues: `maestro-role-coder`, ... */
export const ROLE_QUEUE_PREFIX = 'maestro-role-';

/**
 * Default task queue of a role that has its own workers: `maestro-role-coder` on the default
 * queue, `<queue>-role-coder` when MAESTRO_TASK_QUEUE is set, so deployments never share one.
 */
export function roleTaskQueue(role: string, mainQueue: string = DEFAULT_TASK_QUEUE): string {
  return mainQueue === DEFAULT_TASK_QUEUE ? `${ROLE_QUEUE_PREFIX}${role}` : `${mainQueue}-role-${role}`;
}

/** Largest goal text a run accepts; larger goals belong in a file the Boss can summarise. */
export const MAX_GOAL_CHARS = 4000;

/** Bounds that keep every loop finite, whatever the models answer. */
export const DEFAULT_LIMITS = {
  maxParallel: 4,
  maxRevisions: 2,
  maxReplans: 2,
  maxReopens: 2,
  maxTickets: 100,
} as const;

/** Largest excerpt of one artifact that is put into another agent's prompt. */
export const EXCERPT_CHARS = 2000;

/** Largest excerpt of one artifact the reviewing Boss sees (more: it judges the work). */
export const REVIEW_EXCERPT_CHARS = 6000;

/** Child workflow id of a ticket: one place to look for a ticket of a run. */
export function ticketWorkflowId(runId: string, ticketId: string): string {
  return `${runId}/${ticketId}`;
}

/** Workflow id of a ticket attempt's agent loop, under its ticket's (watchers query it for live tool calls). */
export function agentLoopWorkflowId(ticketWorkflowId: string, attempt: number): string {
  return `${ticketWorkflowId}/agent-${attempt}`;
}

/** Custom search attributes Maestro registers on the dev server and `maestro setup`. */
export const SEARCH_ATTRIBUTES = {
  phase: 'MaestroPhase',
  runId: 'MaestroRunId',
  roles: 'MaestroRoles',
  costUsd: 'MaestroCostUsd',
} as const;

/**
 * Names of the structured-output schemas sent in `response_format`. The simulated LLM uses
 * them to know which kind of answer is wanted, as a real model reads the schema.
 */
export const SCHEMA_NAMES = {
  plan: 'maestro_plan',
  work: 'maestro_work_result',
  review: 'maestro_review',
  final: 'maestro_final_report',
} as const;

/** Search attribute types accepted by `--search-attribute Name=Type`. */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** Maestro's custom search attributes, registered by `maestro dev` and `maestro setup`. */
export const MAESTRO_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeType>> = Object.freeze({
  [SEARCH_ATTRIBUTES.phase]: 'Keyword',
  [SEARCH_ATTRIBUTES.runId]: 'Keyword',
  [SEARCH_ATTRIBUTES.roles]: 'KeywordList',
  [SEARCH_ATTRIBUTES.costUsd]: 'Double',
});

/** Prometheus histogram of how long gates waited for a decision (recorded by workflow code). */
export const GATE_WAIT_METRIC = 'maestro_gate_wait_seconds';

/** Bucket bounds of GATE_WAIT_METRIC, in seconds: from a second to three days. */
export const GATE_WAIT_BUCKETS = [1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600];

/** What `--yes` appends to the user name it decides gates as (so metrics can tell it from a person). */
export const YES_DECIDER_SUFFIX = ' (--yes)';
