/**
 * How a goal and options become the orchestrator's input. One function, so `maestro start`,
 * `MaestroClient.start` and scripts that start the workflow with their own `@temporalio/client`
 * code send exactly the same, validated input.
 */
import { randomBytes } from 'node:crypto';
import { Goal } from '../shared/schemas';
import type { RepoInput } from '../shared/repo';
import type { Budget, NotifyInput, RoleInfo, RunInput } from '../shared/types';
import { InputError } from './errors';

/** Options of a new run (see RunInput for their meaning and defaults). */
export interface StartRunOptions {
  /** The workflow id; default a fresh `maestro-<time>-<random>` (see newRunId). */
  runId?: string;
  /** Start even when a finished run has this id (the old one stays reachable only by its Temporal run id). */
  reuseId?: boolean;
  maxParallel?: number;
  maxRevisions?: number;
  maxReplans?: number;
  maxReopens?: number;
  roles?: RoleInfo[];
  planApproval?: 'manual' | 'auto';
  finalApproval?: 'manual' | 'auto';
  budget?: Budget;
  ticketBudget?: Budget;
  gatePolicies?: RunInput['gatePolicies'];
  /** Webhook URLs told when a gate opens and when the run ends (added to the configured ones). */
  notify?: string[];
  /** Timeout of one LLM HTTP call; the activities' timeouts derive from it (see RunInput). */
  llmTimeoutMs?: number;
  /** How long a role's work may wait for a worker on the role's own queue (see RunInput). */
  queueWaitMs?: number;
  /** Let the Boss plan epics that sub-Bosses run (see RunInput.epics and shared/epics.ts). */
  epics?: boolean;
  /** Work on a git repository (packed by `prepareRepoRun`, client/repo-run.ts); not with `epics`. */
  repo?: RepoInput;
}

/** A fresh, sortable, readable run id such as `maestro-20261125-134501-3fa2`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `maestro-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Validates a goal; throws InputError with what to do when it is refused. */
export function validateGoal(goal: string): string {
  const parsed = Goal.safeParse(goal);
  if (!parsed.success) throw new InputError(`Invalid goal: ${parsed.error.issues[0]?.message ?? 'not accepted'}.`);
  return parsed.data;
}

/** Checks webhook URLs (http or https only); throws InputError naming the bad one. */
export function validateNotifyUrls(urls: readonly string[]): string[] {
  return urls.map((raw) => {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new InputError(
        `--notify: "${raw}" is not an http(s) URL; give a webhook URL such as https://hooks.slack.com/services/...`,
      );
    }
    return url.toString();
  });
}

/** What a run needs besides the goal: where the team and the links come from. */
export interface RunInputContext {
  /** The team; required because the Boss can only assign these roles. */
  roles: RoleInfo[];
  /** The Boss's model, for labels in the Web UI. */
  bossModel?: string;
  /** Whether Maestro's search attributes are registered (see MaestroClient.searchAttributesRegistered). */
  searchAttributes?: boolean;
  /** Webhooks from the configuration, told before the run's own `notify` ones. */
  notify?: readonly string[];
  /** Base URL of the Temporal Web UI, for the links in notifications. */
  webUiUrl?: string;
  /** The configured timeout of one LLM call (MAESTRO_LLM_TIMEOUT_MS), when the options give none. */
  llmTimeoutMs?: number;
}

/** The orchestrator's input for `goal` (validated) with `opts` over the context's defaults. */
export function buildRunInput(goalText: string, opts: StartRunOptions, ctx: RunInputContext): RunInput {
  const goal = validateGoal(goalText);
  if (opts.repo && opts.epics)
    throw new InputError('--repo and --epics do not go together yet: a run on a repository plans its tickets itself.');
  const urls = [...new Set(validateNotifyUrls([...(ctx.notify ?? []), ...(opts.notify ?? [])]))];
  const notify: NotifyInput | undefined =
    urls.length > 0 ? { urls, ...(ctx.webUiUrl ? { webUiUrl: ctx.webUiUrl } : {}) } : undefined;
  return {
    goal,
    roles: opts.roles ?? ctx.roles,
    ...(ctx.bossModel ? { bossModel: ctx.bossModel } : {}),
    ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
    ...(opts.maxRevisions !== undefined ? { maxRevisions: opts.maxRevisions } : {}),
    ...(opts.maxReplans !== undefined ? { maxReplans: opts.maxReplans } : {}),
    ...(opts.maxReopens !== undefined ? { maxReopens: opts.maxReopens } : {}),
    ...(opts.planApproval ? { planApproval: opts.planApproval } : {}),
    ...(opts.finalApproval ? { finalApproval: opts.finalApproval } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.ticketBudget ? { ticketBudget: opts.ticketBudget } : {}),
    ...(opts.gatePolicies ? { gatePolicies: opts.gatePolicies } : {}),
    ...(ctx.searchAttributes !== undefined ? { searchAttributes: ctx.searchAttributes } : {}),
    ...(notify ? { notify } : {}),
    ...((opts.llmTimeoutMs ?? ctx.llmTimeoutMs) ? { llmTimeoutMs: opts.llmTimeoutMs ?? ctx.llmTimeoutMs } : {}),
    ...(opts.queueWaitMs !== undefined ? { queueWaitMs: opts.queueWaitMs } : {}),
    ...(opts.epics ? { epics: true } : {}),
    ...(opts.repo ? { repo: opts.repo } : {}),
  };
}

/** Workflow start options Maestro uses for a run: the goal as the Web UI summary and memo. */
export function runStartMetadata(goal: string): {
  staticSummary: string;
  staticDetails: string;
  memo: { goal: string };
} {
  return { staticSummary: goal.length > 200 ? `${goal.slice(0, 197)}...` : goal, staticDetails: goal, memo: { goal } };
}
