/**
 * Wire shapes of the internal tool-approval protocol (`maestro.toolApprovalRequest` from an agent
 * loop to its run, `maestro.toolApprovalDecision` back). Anyone who can signal a workflow can send
 * these, so both sides parse them with these schemas before anything changes; the loop also
 * accepts a decision only for a request it is waiting on (see workflows/agent-loop.ts).
 */
import { z } from 'zod';

/** Longest request id a loop makes (turn, the model's call id and a nonce), with room to spare. */
const MAX_REQUEST_ID = 400;

/** An agent loop asks its run for a person's approval of one tool call. */
export const ToolApprovalRequestPayload = z
  .object({
    ticketId: z.string().min(1).max(64),
    loopWorkflowId: z.string().min(1).max(1000),
    requestId: z.string().min(1).max(MAX_REQUEST_ID),
    tool: z.string().min(1).max(200),
    // Generous: the approver must see the whole call (a cut could hide what runs), yet bounded.
    call: z.string().max(64_000),
    approval: z.enum(['always', 'first-use']),
  })
  .strict();

/** The run's answer to one request (the comment is shown to the agent). */
export const ToolApprovalDecisionPayload = z
  .object({
    requestId: z.string().min(1).max(MAX_REQUEST_ID),
    approved: z.boolean(),
    by: z.string().min(1).max(1000),
    comment: z.string().max(10_000).optional(),
  })
  .strict();
