/**
 * Workflow-shape changes that runs started by older code must not see: `patched()` is true for
 * runs that reach the change with this code, false while replaying a history recorded before it,
 * so in-flight runs (and queries on closed ones) replay as they were recorded.
 */
import { patched } from '@temporalio/workflow';

/**
 * Issue 8 gate promises: a timeout never becomes a retry, planning failures count against
 * --max-replans, a ticket without a result cannot be approved, a run with nothing accepted fails,
 * and a cancelled run waits for its children.
 */
export const GATE_PROMISES_PATCH = 'maestro-gate-promises-1';

/** Whether this run keeps the issue 8 gate promises (false only for histories recorded before them). */
export function keepsGatePromises(): boolean {
  return patched(GATE_PROMISES_PATCH);
}

/**
 * Pipelined budget permits: a ticket child sends its spend report and its next permit request
 * without waiting for each signal's delivery receipt (one workflow task instead of three per LLM
 * activity). Histories recorded before it awaited every signal.
 */
export const PIPELINED_PERMITS_PATCH = 'maestro-pipelined-permits';

/** Issue 12: plans may hold epics that sub-Bosses run as sub-runs (runs recorded before never plan them). */
export const EPICS_PATCH = 'maestro-epics-1';

/**
 * Issue 12: an epic's sub-run draws its LLM calls from its parent's permits (one budget for the
 * tree, tree-budget.ts). Runs recorded before gave each sub-run what the parent had left.
 */
export const TREE_BUDGET_PATCH = 'maestro-tree-budget-1';

/**
 * Issue 12: a ticket child's permit batch covers its work and its review, and calls a batch
 * leaves over carry to the next activity, so a ticket within its first grant sends no signal;
 * its spending is booked from its outcome. Histories recorded before asked and reported per
 * LLM activity.
 */
export const TICKET_GRANT_PATCH = 'maestro-ticket-grant-1';

/**
 * Issue 19: a tool approval request carries a nonce (`uuid4()` of the loop) that only the run
 * learns, and the loop accepts a decision only for a request it is waiting on. Histories recorded
 * before used the guessable `<turn>:<call id>` as the request id.
 */
export const TOOL_APPROVAL_NONCE_PATCH = 'maestro-tool-approval-nonce-1';

/**
 * Issue 19: each budget grant carries a nonce its report must echo, and a report may not exceed
 * its grant (report-checks.ts). Histories recorded before granted without nonces.
 */
export const GRANT_NONCE_PATCH = 'maestro-grant-nonce-1';

/** Issue 19: a failed or cancelled run keeps its bill in its memo (run-state.ts keepBillInMemo). */
export const BILL_MEMO_PATCH = 'maestro-bill-memo-1';

/** Issue 19: a cancelled ticket reports its batch in hand before it ends (ticket-spending.ts reportOnCancel). */
export const CANCEL_REPORT_PATCH = 'maestro-cancel-report-1';

/**
 * Issue 19: an agent attempt's turns are metered through the run's permits (it asks for a call
 * per turn and pauses when its grant is used up). Histories recorded before took one permit.
 */
export const AGENT_PERMITS_PATCH = 'maestro-agent-permits-1';

/**
 * Issue 19 (hostile review): a ticket's permit request must be its next batch, and a repeated
 * request for a granted batch gets the grant again (budget.ts), so a forged request cannot make
 * the ticket's own look "already asked for".
 */
export const NEXT_BATCH_PATCH = 'maestro-next-batch-1';

/** Issue 19 (hostile review): one pending tool gate per agent loop, a few per ticket (tool-approvals.ts checkRoom). */
export const TOOL_GATE_ROOM_PATCH = 'maestro-tool-gate-room-1';
