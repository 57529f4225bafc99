/**
 * The worker's end of the sinks Maestro's workflow code reports through (workflow code cannot
 * reach the worker's tracer or meter): the run-end sink (src/workflows/run-end-interceptor.ts)
 * exports the run's root span when the run ends, whatever the ending, so a failed or cancelled
 * run's trace has its root too; the gate sink (src/workflows/gate-metrics.ts) records
 * `maestro_gate_wait_seconds`. Registered on every worker that runs workflows; neither is called
 * while a history is replayed.
 */
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import { GATE_WAIT_METRIC } from '../shared/constants';
import type { GateMetricSinks } from '../workflows/gate-metrics';
import type { RunEndSinks } from '../workflows/run-end-interceptor';
import { COST_ATTRIBUTE, exportRunSpan } from './run-spans';

/** Longest failure message a root span's status carries (a failure may quote a whole model answer). */
const MAX_STATUS_CHARS = 1000;

/** Outcomes that are no error (a stopped or rejected run ended as a person decided). */
const FINE = new Set(['completed', 'partial', 'stopped', 'rejected', 'cancelled']);

/** The sinks a worker running Maestro's workflows registers. */
export function workflowSinks(): InjectedSinks<RunEndSinks & GateMetricSinks> {
  return {
    maestroRunEnd: {
      ended: {
        fn: (info, end) => {
          try {
            exportRunSpan(
              info.workflowId,
              { 'maestro.run.outcome': end.outcome, ...(end.usd !== undefined ? { [COST_ATTRIBUTE]: end.usd } : {}) },
              {
                startTime: info.startTime.getTime(),
                ...(FINE.has(end.outcome) ? {} : { error: (end.error ?? end.outcome).slice(0, MAX_STATUS_CHARS) }),
              },
            );
          } catch {
            // telemetry must never fail a run
          }
        },
        callDuringReplay: false,
      },
    },
    maestroGateMetrics: {
      gateWait: {
        fn: (info, { seconds, ...labels }) => {
          try {
            Runtime.instance()
              .metricMeter.createHistogram(GATE_WAIT_METRIC, 'float', 's', 'Time a gate waited for its decision')
              .record(seconds, {
                ...labels,
                namespace: info.namespace,
                task_queue: info.taskQueue,
                workflow_type: info.workflowType,
              });
          } catch {
            // a metric must never fail a decision
          }
        },
        callDuringReplay: false,
      },
    },
  };
}
