/**
 * `maestro_gate_wait_seconds{kind, outcome, decided_by}`: how long each gate waited for its
 * decision, recorded when it is settled (by a person, by `--yes`, by its timeout policy, or by
 * Maestro itself when a run is cancelled). Workflow code cannot reach the worker's meter, so it
 * goes through the SDK's workflow metric meter (a sink the worker forwards to the same
 * Prometheus endpoint as the activity metrics); the SDK drops it while replaying, so a gate
 * is counted once however often its history is replayed.
 */
import { inWorkflowContext, metricMeter } from '@temporalio/workflow';
import { GATE_WAIT_METRIC, YES_DECIDER_SUFFIX } from '../shared/constants';
import type { GateView } from '../shared/types';

/** Who settled a gate, as a low-cardinality label (never a person's name). */
export type GateDecider = 'person' | 'yes' | 'timeout-policy' | 'maestro';

/** Classifies the `by` of a decision: `--yes` and the timeout policy sign theirs recognisably. */
export function deciderOf(by: string): GateDecider {
  if (by === 'timeout-policy' || by === 'maestro') return by;
  return by.endsWith(YES_DECIDER_SUFFIX) ? 'yes' : 'person';
}

/** Records the wait of a gate that was just settled (its `decision` set); never throws into the run. */
export function recordGateWait(gate: GateView): void {
  if (!gate.decision || !inWorkflowContext()) return; // unit tests use gates outside a workflow
  const seconds = Math.max(0, (Date.parse(gate.decision.at) - Date.parse(gate.openedAt)) / 1000);
  if (!Number.isFinite(seconds)) return;
  try {
    metricMeter
      .createHistogram(GATE_WAIT_METRIC, 'float', 'seconds', 'Time a gate waited for its decision')
      .record(seconds, { kind: gate.kind, outcome: gate.decision.decision, decided_by: deciderOf(gate.decision.by) });
  } catch {
    // a metric must never fail a decision
  }
}
