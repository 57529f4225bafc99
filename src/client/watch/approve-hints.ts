/**
 * The exact commands that settle a pending gate, printed wherever a run waits for a person
 * (`maestro watch`, `maestro run`), so nobody has to look up flag names or the signal payload.
 */
import { ticketWorkflowId } from '../../shared/constants';
import { shellQuote } from '../../shared/shell-quote';
import type { GateView } from '../../shared/types';

/** How to approve one gate, from Maestro's CLI and from the Temporal CLI. */
export interface ApproveHints {
  maestro: string;
  temporal: string;
}

export { shellQuote };

/**
 * Commands that approve `gate` of `runId`, naming the gate by its id (so they cannot approve a
 * later gate by mistake); `namespace` is added when it is not `default`. Gates given without an
 * id are named by kind and ticket. A gate of the sub-run of epic `epic` is decided through the
 * top run with `--epic` (the Temporal CLI names the sub-run's workflow id).
 */
export function approveHints(
  runId: string,
  gate: Pick<GateView, 'kind' | 'ticketId'> & { id?: string },
  namespace = 'default',
  epic?: string,
): ApproveHints {
  const ticket = gate.kind === 'ticket' && gate.ticketId && !gate.id ? gate.ticketId : undefined;
  const ref = gate.id ?? gate.kind;
  const payload = JSON.stringify({ gate: ref, ...(ticket ? { ticketId: ticket } : {}), by: '<you>' });
  const ns = namespace === 'default' ? '' : ` --namespace ${shellQuote(namespace)}`;
  // A sub-run's own id (`<runId>/<epic>`, e.g. from `maestro status --epic`) is decided through its parent.
  const slash = runId.lastIndexOf('/');
  const [top, sub] = !epic && slash > 0 ? [runId.slice(0, slash), runId.slice(slash + 1)] : [runId, epic];
  const epicFlag = sub ? ` --epic ${shellQuote(sub)}` : '';
  const workflowId = sub ? ticketWorkflowId(top, sub) : top;
  return {
    maestro: `maestro approve ${shellQuote(top)}${epicFlag} --gate ${shellQuote(ref)}${ticket ? ` --ticket ${shellQuote(ticket)}` : ''}`,
    temporal: `temporal workflow signal${ns} --workflow-id ${shellQuote(workflowId)} --name approve --input ${shellQuote(payload)}`,
  };
}
