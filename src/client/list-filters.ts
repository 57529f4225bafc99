/**
 * Filters of `maestro list`: flag parsing with messages that say what is accepted, and the
 * translation into a Temporal visibility query. Pure, so every rule is unit-tested without a server.
 */
import { InvalidArgumentError } from 'commander';
import { SEARCH_ATTRIBUTES } from '../shared/constants';
import type { RunStatus } from '../shared/types';
import { InputError } from './errors';
import { parseDuration } from './options';

/** Phases a run reports while its workflow is open (recorded in the MaestroPhase search attribute). */
export const LIVE_PHASES = ['planning', 'awaiting-approval', 'executing', 'finalizing'] as const;

/**
 * Phases of closed runs. `completed` and `stopped` (a person ended the run at its budget gate) both
 * close the workflow as Completed and differ only in the phase the run recorded (MaestroPhase);
 * `failed` and `cancelled` follow from the execution status alone.
 */
export const CLOSED_PHASES = ['completed', 'stopped', 'failed', 'cancelled'] as const;

/** Everything `--phase` accepts; `running` means any open run. */
export const LIST_PHASES = [...LIVE_PHASES, 'running', ...CLOSED_PHASES] as const;

/** A value of `--phase`. */
export type ListPhase = (typeof LIST_PHASES)[number];

/** Filters of a listing. */
export interface ListRunsOptions {
  /** At most this many runs (default 20). */
  limit?: number;
  phase?: ListPhase;
  /** Only runs started after this instant. */
  since?: Date;
  /** Also list epics' sub-runs (child orchestrators); by default only top-level runs. */
  subRuns?: boolean;
}

/** How to list: the visibility query, plus a phase the caller must check itself when needed. */
export interface ListPlan {
  query: string;
  /** Set when the phase cannot be expressed in the query: ask each open run for its status. */
  postFilterPhase?: (typeof LIVE_PHASES)[number];
  /** Said to the person (stderr) when the listing is less precise or slower than usual. */
  note?: string;
}

const CLOSED_STATUS_CLAUSE: Record<(typeof CLOSED_PHASES)[number], string> = {
  completed: `ExecutionStatus = 'Completed' AND (${SEARCH_ATTRIBUTES.phase} IS NULL OR ${SEARCH_ATTRIBUTES.phase} != 'stopped')`,
  stopped: `ExecutionStatus = 'Completed' AND ${SEARCH_ATTRIBUTES.phase} = 'stopped'`,
  failed: `ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')`,
  cancelled: `ExecutionStatus = 'Canceled'`,
};

/**
 * Whether listing by `phase` reads the MaestroPhase search attribute, so the caller must first
 * check that it is registered (else the visibility query itself would be refused).
 */
export function phaseNeedsSearchAttribute(phase: ListPhase | undefined): boolean {
  return (
    phase !== undefined &&
    phase !== 'running' &&
    phase !== 'awaiting-approval' &&
    phase !== 'failed' &&
    phase !== 'cancelled'
  );
}

/** Builds the visibility query; `phaseRegistered` says whether MaestroPhase can be queried. */
export function buildListPlan(opts: ListRunsOptions, phaseRegistered: boolean): ListPlan {
  const clauses = [`WorkflowType = 'orchestratorWorkflow'`];
  // An epic's sub-run is a child orchestrator: only top-level runs have no parent.
  if (!opts.subRuns) clauses.push('ParentWorkflowId IS NULL');
  let postFilterPhase: ListPlan['postFilterPhase'];
  let note: string | undefined;
  const phase = opts.phase;
  if (phase === 'running') clauses.push(`ExecutionStatus = 'Running'`);
  else if ((phase === 'completed' || phase === 'stopped') && !phaseRegistered) {
    // Without MaestroPhase no run recorded `stopped`: every Completed run reads as completed.
    if (phase === 'stopped')
      throw new InputError(
        `--phase stopped needs the search attribute ${SEARCH_ATTRIBUTES.phase}, which is not registered on this namespace: ` +
          'run `maestro setup` once (runs started after it record their phase).',
      );
    clauses.push(`ExecutionStatus = 'Completed'`);
    note =
      `The search attribute ${SEARCH_ATTRIBUTES.phase} is not registered on this namespace, so runs stopped at their budget ` +
      'cannot be told apart and are listed as completed. Run `maestro setup` once to register it.';
  } else if (phase !== undefined && isClosedPhase(phase)) clauses.push(CLOSED_STATUS_CLAUSE[phase]);
  else if (phase !== undefined) {
    clauses.push(`ExecutionStatus = 'Running'`);
    // Waiting for a person is not a phase a run records: ask each open run for its pending gates.
    if (phase === 'awaiting-approval') postFilterPhase = phase;
    else if (phaseRegistered) clauses.push(`${SEARCH_ATTRIBUTES.phase} = '${phase}'`);
    else {
      postFilterPhase = phase;
      note =
        `The search attribute ${SEARCH_ATTRIBUTES.phase} is not registered on this namespace, so runs are filtered by ` +
        `execution status and each open run is asked for its phase (slower; runs without a worker are left out). ` +
        'Run `maestro setup` once to register it.';
    }
  }
  if (opts.since) clauses.push(`StartTime > '${opts.since.toISOString()}'`);
  return { query: clauses.join(' AND '), ...(postFilterPhase ? { postFilterPhase } : {}), ...(note ? { note } : {}) };
}

/**
 * The query counting a top run's sub-runs at every level: child orchestrators whose root is the run
 * (a run that continued as new keeps its workflow id, so it stays their root).
 */
export function subRunCountQuery(runId: string): string {
  return `WorkflowType = 'orchestratorWorkflow' AND RootWorkflowId = '${runId.replace(/'/g, "\\'")}' AND ParentWorkflowId IS NOT NULL`;
}

/** Whether a live status is in `wanted`; a run waiting for a person counts as awaiting-approval. */
export function phaseMatches(s: Pick<RunStatus, 'phase' | 'pendingGates'>, wanted: string): boolean {
  return s.phase === wanted || (wanted === 'awaiting-approval' && s.pendingGates.length > 0);
}

function isClosedPhase(p: ListPhase): p is (typeof CLOSED_PHASES)[number] {
  return (CLOSED_PHASES as readonly string[]).includes(p);
}

/** A refused value as the message shows it: quoted, control characters escaped, at most 60 characters. */
function shownValue(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Parser of `--phase`: one of {@link LIST_PHASES}, case-insensitive. */
export function parsePhaseOption(value: string): ListPhase {
  const v = value.trim().toLowerCase();
  const found = LIST_PHASES.find((p) => p === v);
  if (!found)
    throw new InvalidArgumentError(`--phase takes one of ${LIST_PHASES.join(', ')}; got ${shownValue(value)}.`);
  return found;
}

/**
 * Parser of `--since`: a duration back from `now` (`90m`, `2h`, `3d`, `1w`) or an ISO date or
 * date-time (`2026-11-24`, `2026-11-24T08:00:00Z`). A moment in the future is refused.
 */
export function parseSinceOption(value: string, now: Date = new Date()): Date {
  const v = value.trim();
  const ago = parseDuration(v);
  let at: Date | undefined;
  if (ago !== undefined) {
    at = new Date(now.getTime() - ago);
  } else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const parsed = new Date(v.replace(' ', 'T'));
    if (!Number.isNaN(parsed.getTime())) at = parsed;
  }
  if (!at) {
    throw new InvalidArgumentError(
      `--since takes a duration such as 30m, 2h, 3d or 1w, or an ISO date such as 2026-11-24 or 2026-11-24T08:00:00Z; got "${value}".`,
    );
  }
  if (at.getTime() > now.getTime())
    throw new InvalidArgumentError(`--since ${value} is in the future; give a moment in the past.`);
  return at;
}
