/**
 * Risky-tool approvals, on the run's side. An agent loop that wants to make a call marked
 * `approval: always | first-use` asks the run; the run opens a ticket gate showing the tool and
 * its arguments (durable like every gate: it survives worker crashes and restarts) and signals the
 * decision back. A `first-use` tool approved once in this run is not asked about again (the run's
 * state keeps them, so that holds across continue-as-new too). Approve
 * runs the call; any other decision rejects it, and the person's comment is what the agent reads.
 */
import { getExternalWorkflowHandle, patched } from '@temporalio/workflow';
import { agentLoopWorkflowId, ticketWorkflowId } from '../shared/constants';
import { toolApprovalDecisionSignal, toolApprovalRequestSignal } from '../shared/messages';
import { ToolApprovalRequestPayload } from '../shared/tool-approval-payloads';
import { approvalOf, type ToolApprovalDecision, type ToolApprovalRequest } from '../shared/tools';
import { awaitGate } from './gates';
import { runAudit } from './handlers';
import { badInput, onSignal } from './message-handlers';
import { TOOL_GATE_ROOM_PATCH } from './patches';
import { gatePolicy } from './policies';
import type { RunState } from './run-state';

/** Pending tool-approval gates one ticket may have (its loops ask one call at a time, attempt after attempt). */
export const MAX_TOOL_GATES_PER_TICKET = 4;

/** Installs the run's handler for tool approval requests of its agent loops. */
export function installToolApprovals(state: RunState, publish: () => void): void {
  const approvedOnce = state.toolsApprovedOnce;
  /** Loops with a tool gate pending (a loop asks about one call at a time). */
  const waiting = new Set<string>();
  const answer = (req: ToolApprovalRequest, d: Omit<ToolApprovalDecision, 'requestId'>) =>
    getExternalWorkflowHandle(req.loopWorkflowId).signal(toolApprovalDecisionSignal, {
      requestId: req.requestId,
      ...d,
    });

  onSignal(
    toolApprovalRequestSignal,
    ToolApprovalRequestPayload,
    async (req) => {
      checkSender(state, req);
      checkRoom(state, req, waiting);
      if (req.approval === 'first-use' && approvedOnce.has(req.tool)) {
        state.book.log({ by: 'maestro', action: 'tool-approved-before', ticketId: req.ticketId, comment: req.call });
        return answer(req, { approved: true, by: 'maestro', comment: `${req.tool} was approved on first use` });
      }
      const policy = gatePolicy(state.input, 'ticket');
      const gate = state.book.open(
        'ticket',
        `${req.ticketId} wants to call ${req.call} — approve to run it, or reject with a comment the agent will read`,
        policy,
        req.ticketId,
      );
      // Marks it as a tool approval, which `--yes` approves, unlike a ticket's own gate.
      gate.tool = req.tool;
      waiting.add(req.loopWorkflowId);
      publish();
      const d = await awaitGate(state.book, gate, policy).finally(() => waiting.delete(req.loopWorkflowId));
      publish();
      const approved = d.decision === 'approve';
      if (approved) approvedOnce.add(req.tool);
      await answer(req, { approved, by: d.by, ...(d.comment ? { comment: d.comment } : {}) });
    },
    runAudit(state, publish),
  );
}

/**
 * Refuses a request that did not come from one of this run's agent loops asking about a tool its
 * role gates: a forged request must neither open a gate nor make the run signal another workflow
 * (or mark a tool approved for the run).
 */
function checkSender(state: RunState, req: ToolApprovalRequest): void {
  const role = state.hasTicket(req.ticketId)
    ? state.input.roles.find((r) => r.name === state.roleOf(req.ticketId))
    : undefined;
  if (!role?.agent) throw badInput(`${req.ticketId} is no agent ticket of this run`);
  const loopPrefix = agentLoopWorkflowId(ticketWorkflowId(state.runId, req.ticketId), 0).replace(/0$/, '');
  const attempt = req.loopWorkflowId.startsWith(loopPrefix) ? req.loopWorkflowId.slice(loopPrefix.length) : '';
  if (!/^[1-9]\d{0,5}$/.test(attempt))
    throw badInput(`${req.loopWorkflowId} is no agent loop of ticket ${req.ticketId}`);
  // The gate shows `call` and an approval is booked to `tool`: they must name the same tool.
  if (req.call !== req.tool && !req.call.startsWith(`${req.tool} `))
    throw badInput(`the call shown (${req.call.slice(0, 80)}) is not a call of ${req.tool}`);
  const mode = approvalOf(role.agent, req.tool);
  if (mode !== req.approval)
    throw badInput(`${req.tool} needs approval "${mode}" in role ${role.name}, not "${req.approval}"`);
}

/**
 * Refuses a request from a loop that already waits at a tool gate, or for a ticket that has
 * MAX_TOOL_GATES_PER_TICKET pending: a loop asks about one call at a time, so more is forged, and
 * each gate (its call up to 64 KB) grows the status until its query fails. Histories recorded
 * before this check open every gate.
 */
function checkRoom(state: RunState, req: ToolApprovalRequest, waiting: ReadonlySet<string>): void {
  const pending = state.book.pending().filter((g) => g.tool !== undefined && g.ticketId === req.ticketId).length;
  const full = waiting.has(req.loopWorkflowId)
    ? `${req.loopWorkflowId} already waits for a tool approval`
    : pending >= MAX_TOOL_GATES_PER_TICKET
      ? `${req.ticketId} already has ${pending} tool approvals pending`
      : undefined;
  if (full && patched(TOOL_GATE_ROOM_PATCH)) throw badInput(full);
}
