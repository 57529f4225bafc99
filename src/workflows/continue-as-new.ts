/**
 * Continue-as-new of the orchestrator, so a run of any size keeps its history under Temporal's
 * limits (a history past ~50k events or 50 MB fails, and replay slows long before). Once the
 * history passes its bound, the scheduler starts no new child and the run continues as new at the
 * next quiet point: no child in flight. Children keep the run's execution as their parent (their
 * permit and tool-approval signals name it, and a parent's close policy applies when the
 * execution closes), so continuing while one runs would orphan or kill it; at a quiet point
 * nothing is in flight but people's decisions, which are data: the plan, ticket states, outputs,
 * gates (pending ones included), audit, spending and budget travel in the new execution's input,
 * and tickets waiting at a gate wait again there. Signals that arrive while the run continues are
 * not lost: the server refuses to close an execution that has unhandled signals (its last
 * workflow task runs again with them) and later ones go to the new execution; status queries
 * reach whichever execution is current.
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import type { TicketOutcome } from '../shared/types';
import type { RunStateData } from './run-state';

/** Default bound of the run's history in events (Temporal fails a workflow at 51,200). */
export const MAX_HISTORY_EVENTS = 10_000;

/** Bound of the run's history in bytes (Temporal fails a workflow at 50 MB). */
export const MAX_HISTORY_BYTES = 10 * 1024 * 1024;

/** Patch id: runs recorded before continue-as-new never drain for it when replayed. */
const CONTINUE_AS_NEW_PATCH = 'maestro-continue-as-new';

/** A ticket waiting at its gate when the run continued: the gate and the result to approve. */
export interface GateWait {
  ticketId: string;
  gateId: string;
  result?: TicketOutcome;
}

/** The scheduler's own state at a quiet point. */
export interface SchedulerCarry {
  /** Feedback of tickets a person sent back that have not started again yet. */
  retryFeedback: [string, string][];
  /** Tickets waiting at a gate. */
  gateWaits: GateWait[];
}

/** What a run carries into its next execution. */
export interface RunCarry {
  /** 1 for the first continuation, then 2, ... */
  generation: number;
  state: RunStateData;
  scheduler: SchedulerCarry;
  /** Gates whose webhooks were already told (not told again). */
  notified: string[];
}

/** The orchestrator's input when it continued as new. */
export interface ContinuedInput {
  continued?: RunCarry;
}

/**
 * Whether the run should drain and continue as new: its history passed `maxEvents` events or
 * MAX_HISTORY_BYTES, or the server suggests it. False for histories recorded before this rule.
 */
export function historyFull(maxEvents = MAX_HISTORY_EVENTS): boolean {
  const info = workflowInfo();
  // The size bounds count the carried input too: an execution continues only after events of its own.
  const big =
    info.historyLength >= Math.min(maxEvents, 100) &&
    (info.continueAsNewSuggested || info.historySize >= MAX_HISTORY_BYTES);
  const long = big || info.historyLength >= maxEvents;
  return long && patched(CONTINUE_AS_NEW_PATCH);
}
