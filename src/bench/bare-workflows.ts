/**
 * The engine's floor for `npm run bench`: a run of the same shape as Maestro's (one step before,
 * N child workflows of two steps each, one step after) with no LLM, no Maestro code and default
 * worker options, so Maestro's wall time can be compared with what Temporal itself needs.
 * Workflow code: deterministic, imports only the workflow SDK.
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BareActivities } from './bare-activities';

const { bareStep } = proxyActivities<BareActivities>({ startToCloseTimeout: '2 minutes' });

/** Input of the bare run: how many children, and how long each step takes. */
export interface BareRunInput {
  tickets: number;
  latencyMs: number;
}

/** Plan step, N children (all at once), final step: Maestro's plan / tickets / report shape. */
export async function bareRunWorkflow(input: BareRunInput): Promise<number> {
  const { workflowId } = workflowInfo();
  await bareStep({ latencyMs: input.latencyMs });
  await Promise.all(
    Array.from({ length: input.tickets }, (_, i) =>
      executeChild(bareTicketWorkflow, {
        workflowId: `${workflowId}/T${i + 1}`,
        args: [{ latencyMs: input.latencyMs }],
      }),
    ),
  );
  await bareStep({ latencyMs: input.latencyMs });
  return input.tickets;
}

/** One ticket: a work step and a review step, like Maestro's performTicket + reviewTicket. */
export async function bareTicketWorkflow(input: { latencyMs: number }): Promise<void> {
  await bareStep(input);
  await bareStep(input);
}
