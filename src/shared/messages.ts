/**
 * The durable wire API of Maestro's workflows: queries, signals and updates are defined once
 * here and used by name from the client, the workflows and the tests. Never rename a released
 * wire name: running workflows and scripts (`temporal workflow signal --name approve`) use it.
 * Workflows register handlers only through src/workflows/message-handlers.ts, with a zod schema
 * for every signal and update payload (lint and test/unit/message-handlers.test.ts enforce it).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GateKind, GateView, RunStatus, TicketOutcome } from './types';
import type { SpendGrant, SpendReport, SpendRequest } from './permits';
import type { AgentLoopProgress, ToolApprovalDecision, ToolApprovalRequest } from './tools';

/** The run's live state: phase, tickets, pending gates, cost, audit log. */
export const statusQuery = defineQuery<RunStatus>('status');

/**
 * Payload of `approve` / `reject`. Clients send the id of the gate the person saw (`gate:
 * "plan#2"` or `gateId`), so a decision never lands on a gate opened since; one that is no longer
 * pending is refused. A kind (`gate: "plan"`), or nothing, still works while exactly one such
 * gate is pending, so a person can approve from the Web UI with just `{"by":"ana"}`.
 */
export interface DecisionSignal {
  /** A gate kind, or a gate id such as `plan#2` / `ticket:T3#5`. */
  gate?: GateKind | (string & {});
  /** The id of the gate decided on, e.g. `plan#2`. */
  gateId?: string;
  ticketId?: string;
  by?: string;
  comment?: string;
  /** Only for a ticket gate with `reject`: what to do instead of approving anyway. */
  action?: 'retry' | 'skip' | 'abort';
}

/** Approves the pending gate (for a ticket gate: accept its last result anyway). */
export const approveSignal = defineSignal<[DecisionSignal]>('approve');

/** Rejects the pending gate (plan: re-plan with the comment; final: revise the report once). */
export const rejectSignal = defineSignal<[DecisionSignal]>('reject');

/** Raises the run's budget by `usd` dollars (and/or `tokens`), which reopens spending. */
export interface RaiseBudgetSignal {
  usd?: number;
  tokens?: number;
  by?: string;
}

/** Raises the run budget; closes a pending budget gate when there is room again. */
export const raiseBudgetSignal = defineSignal<[RaiseBudgetSignal]>('raiseBudget');

/** Decision verbs of the `decide` update. */
export type Decision = 'approve' | 'reject' | 'retry' | 'skip' | 'abort';

/** Payload of the `decide` update: a signal payload plus an explicit decision. */
export interface DecideRequest extends Omit<DecisionSignal, 'action'> {
  decision: Decision;
}

/** What `decide` returns: the gate it settled. */
export interface DecideResult {
  gate: GateView;
}

/** Synchronous decision with validation: bad input is refused with a clear message. */
export const decideUpdate = defineUpdate<DecideResult, [DecideRequest]>('decide');

/** A ticket child's progress (same wire name on the child workflow). */
export interface TicketProgress {
  ticketId: string;
  attempt: number;
  stage: 'working' | 'reviewing' | 'done';
  reviews: TicketOutcome['reviews'];
  workUsage: TicketOutcome['workUsage'];
  reviewUsage: TicketOutcome['reviewUsage'];
  /** The coding-agent CLI working this ticket (roles with an `executor`): the watcher reads its heartbeats. */
  executor?: string;
}

/** Query of a ticket child workflow. */
export const ticketStatusQuery = defineQuery<TicketProgress>('status');

/**
 * Internal protocol between a budgeted run and its ticket children (see shared/permits.ts): a
 * child asks for permits (one per HTTP call to a model) before each LLM activity and reports
 * what the activity cost when it ends, so the run can stop spending at its cap with at most one
 * call beyond it. Handlers parse the payloads; the declared types are what well-behaved senders
 * send.
 */
export const spendRequestSignal = defineSignal<[SpendRequest]>('maestro.spendRequest');

/** A child reports the usage of the calls one permit batch paid for. */
export const spendReportSignal = defineSignal<[SpendReport]>('maestro.spendReport');

/** The run grants a child's permit batch `seq` (sent to the child). */
export const spendGrantSignal = defineSignal<[SpendGrant]>('maestro.spendGrant');

/** Query of an agent-loop child workflow (`<runId>/<ticketId>/agent-<attempt>`): turn and tool calls so far. */
export const agentLoopStatusQuery = defineQuery<AgentLoopProgress>('status');

/**
 * Internal protocol of risky-tool approvals: an agent loop asks its run to open a ticket gate for
 * one tool call; the run signals the person's decision back to the loop.
 */
export const toolApprovalRequestSignal = defineSignal<[ToolApprovalRequest]>('maestro.toolApprovalRequest');

/** The run's answer to a tool approval request (the comment is shown to the agent). */
export const toolApprovalDecisionSignal = defineSignal<[ToolApprovalDecision]>('maestro.toolApprovalDecision');

/**
 * Internal protocol of epics: a sub-run tells its parent how far it is (tickets per state, the
 * ids and reasons of its pending gates), throttled to changes of its phase or gates and to every
 * tenth of its tickets finished, so the parent's Web UI details show each epic's progress and
 * the gates deep in the tree without a signal per ticket. The handler parses the payload.
 */
/**
 * Internal protocol of epics: the top run tells a running sub-run that drew on its budget that a
 * person stopped spending at the top run's budget gate; the sub-run stops like a run whose own
 * budget gate was rejected (nothing new starts, running tickets are cancelled) and ends `stopped`
 * with what it accepted, which the top run keeps. It carries nothing (one with a payload is audited and ignored).
 */
export const epicStopSignal = defineSignal('maestro.epicStop');

export const epicProgressSignal = defineSignal<[EpicProgress]>('maestro.epicProgress');

/** Payload of `maestro.epicProgress`. */
export interface EpicProgress {
  /** The epic's ticket id in the parent. */
  ticketId: string;
  phase: string;
  /** Tickets of the sub-run per state. */
  counts: Record<string, number>;
  /** Pending gates of the sub-run: id and reason. */
  gates: { id: string; reason: string }[];
}
