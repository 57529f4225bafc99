/**
 * `maestro_gate_wait_seconds{kind, outcome, decided_by}`: how long each gate waited for its
 * decision, recorded when it is settled (by a person, by `--yes`, by its timeout policy, or by
 * Maestro itself when a run is cancelled). Workflow code cannot reach the worker's meter, so it
 * goes through a sink (src/telemetry/workflow-sinks.ts) that records it on the same Prometheus
 * endpoint as the activity metrics, with snake_case labels (the SDK's workflow metric meter adds
 * `taskQueue`/`workflowType`); sinks are not called while replaying, so a gate is counted once
 * however often its history is replayed.
 */
import { inWorkflowContext, proxySinks, type Sinks } from '@temporalio/workflow';
import { YES_DECIDER_SUFFIX } from '../shared/constants';
import type { GateView } from '../shared/types';

/** Who settled a gate, as a low-cardinality label (never a person's name). */
export type GateDecider = 'person' | 'yes' | 'timeout-policy' | 'maestro';

/** Classifies the `by` of a decision: `--yes` and the timeout policy sign theirs recognisably. */
export function deciderOf(by: string): GateDecider {
  if (by === 'timeout-policy' || by === 'maestro') return by;
  return by.endsWith(YES_DECIDER_SUFFIX) ? 'yes' : 'person';
}

/** One settled gate's wait, as the sink gets it. */
export interface GateWait {
  seconds: number;
  kind: string;
  outcome: string;
  decided_by: GateDecider;
}

/** The sink the worker registers (src/telemetry/workflow-sinks.ts). */
export interface GateMetricSinks extends Sinks {
  maestroGateMetrics: { gateWait(wait: GateWait): void };
}

const { maestroGateMetrics } = proxySinks<GateMetricSinks>();

/** Records the wait of a gate that was just settled (its `decision` set); never throws into the run. */
export function recordGateWait(gate: GateView): void {
  if (!gate.decision || !inWorkflowContext()) return; // unit tests use gates outside a workflow
  const seconds = Math.max(0, (Date.parse(gate.decision.at) - Date.parse(gate.openedAt)) / 1000);
  if (!Number.isFinite(seconds)) return;
  try {
    maestroGateMetrics.gateWait({
      seconds,
      kind: gate.kind,
      outcome: gate.decision.decision,
      decided_by: deciderOf(gate.decision.by),
    });
  } catch {
    // a metric must never fail a decision
  }
}
