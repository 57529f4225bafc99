/**
 * `maestro_runs{phase}`: how many open runs are in each phase on the namespace, counted from
 * visibility (the MaestroPhase search attribute) every few seconds by a worker serving metrics,
 * so a dashboard shows the backlog of planning, executing and finalizing runs.
 */
import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { buildListPlan } from '../client/list-filters';

/** Phases that open runs record in MaestroPhase. */
const OPEN_PHASES = ['planning', 'executing', 'finalizing'] as const;

/** Metric name of the gauge. */
export const RUNS_GAUGE = 'maestro_runs';

/** Starts counting; returns a stop function. Errors (e.g. the attribute not registered) are logged once. */
export function startRunPhaseGauge(opts: {
  client: Client;
  intervalMs?: number;
  log: (line: string) => void;
}): () => void {
  const gauge = Runtime.instance().metricMeter.createGauge(RUNS_GAUGE, 'int', 'runs', 'Open Maestro runs by phase');
  let warned = false;
  const tick = async () => {
    for (const phase of OPEN_PHASES) {
      const { count } = await opts.client.workflow.count(buildListPlan({ phase, subRuns: true }, true).query);
      gauge.set(count, { phase });
    }
  };
  const run = () =>
    tick().catch((err: unknown) => {
      if (!warned)
        opts.log(
          `warning: cannot count runs by phase for ${RUNS_GAUGE} (${(err as Error).message}); run \`maestro setup\`.`,
        );
      warned = true;
    });
  void run();
  const timer = setInterval(() => void run(), opts.intervalMs ?? 10_000);
  return () => clearInterval(timer);
}
