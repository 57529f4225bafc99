/**
 * The phase of a run as Temporal's visibility knows it, without asking a worker: the phase the run
 * recorded (the MaestroPhase search attribute), else what its execution status implies. `maestro
 * list` and `maestro watch` (when no worker answers) both show this, so they never disagree.
 */
import { defineSearchAttributeKey, SearchAttributeType, type TypedSearchAttributes } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../shared/constants';
import type { RunPhase } from '../shared/types';

const PHASE_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, SearchAttributeType.KEYWORD);

/** Phase of a closed workflow whose run did not record one. */
const CLOSED_PHASE: Partial<Record<string, RunPhase>> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CANCELLED: 'cancelled',
};

const RUN_PHASES: ReadonlySet<string> = new Set<RunPhase>([
  'planning',
  'executing',
  'finalizing',
  'completed',
  'stopped',
  'failed',
  'cancelled',
]);

/** What {@link visibilityPhase} reads: a workflow's description or a listed execution. */
export interface PhaseSource {
  status: { name: string };
  typedSearchAttributes?: TypedSearchAttributes;
}

/**
 * The recorded phase (when it is one Maestro knows), else the closed status's phase; undefined for
 * an open run that has recorded none yet (its first workflow task has not run).
 */
export function visibilityPhase(wf: PhaseSource): RunPhase | undefined {
  const recorded = wf.typedSearchAttributes?.get(PHASE_KEY);
  if (recorded !== undefined && RUN_PHASES.has(recorded)) return recorded as RunPhase;
  return CLOSED_PHASE[wf.status.name];
}
