/**
 * `maestro-agents/wire`: Maestro's durable wire API for code that talks to runs with its own
 * `@temporalio/client` (or from another workflow): the workflow's name, input and result types,
 * the signals, update and query, and the zod schemas the run validates their payloads with.
 * Deterministic and free of Node built-ins, so it is safe to import inside workflow code too.
 *
 * ```ts
 * const handle = await client.workflow.start<typeof orchestratorWorkflow>(ORCHESTRATOR_WORKFLOW, {
 *   workflowId, taskQueue: DEFAULT_TASK_QUEUE, args: [{ goal, roles: defaultRunRoles(), planApproval: 'manual' }],
 * });
 * await handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', by: 'bot' }] });
 * ```
 */
import type { z } from 'zod';
import {
  DecidePayload as DecidePayloadSchema,
  DecisionPayload as DecisionPayloadSchema,
  RaiseBudgetPayload as RaiseBudgetPayloadSchema,
} from './workflows/gate-payloads';
import { DEFAULT_ROLES, roleInfoOf } from './shared/roles';
import type { RoleInfo } from './shared/types';

export {
  approveSignal,
  decideUpdate,
  raiseBudgetSignal,
  rejectSignal,
  statusQuery,
  ticketStatusQuery,
  type DecideRequest,
  type DecideResult,
  type Decision,
  type DecisionSignal,
  type RaiseBudgetSignal,
  type TicketProgress,
} from './shared/messages';
export { DEFAULT_TASK_QUEUE, ticketWorkflowId } from './shared/constants';
export { FailureType } from './shared/errors';
export type { orchestratorWorkflow } from './workflows/orchestrator';
export type { ticketWorkflow } from './workflows/ticket';
export type {
  ArtifactRef,
  AuditEntry,
  Budget,
  CostView,
  GateKind,
  GatePolicyInput,
  GateTimeoutPolicy,
  GateView,
  LlmCallKind,
  LlmCallRecord,
  ManifestEntry,
  NotifyInput,
  ReopenRequest,
  ReviewRecord,
  RoleInfo,
  RoleRetryPolicy,
  RunInput,
  RunPhase,
  RunResult,
  RunStatus,
  TicketInput,
  TicketOutcome,
  TicketOutput,
  TicketState,
  TicketView,
} from './shared/types';
export type { FinalReport, Plan, Ticket } from './shared/schemas';
export type { Usage } from './shared/usage';
export type { MaestroNotification, NotificationEvent } from './shared/notifications';

/** Workflow type name of a Maestro run (the orchestrator); its workflow id is the run id. */
export const ORCHESTRATOR_WORKFLOW = 'orchestratorWorkflow';

/** The `approve`/`reject` signal payload as the run validates it (unknown keys are refused). */
export const DecisionPayload = DecisionPayloadSchema;
/** A valid `approve`/`reject` payload. */
export type DecisionPayload = z.infer<typeof DecisionPayload>;

/** The `decide` update payload as the run validates it. */
export const DecidePayload = DecidePayloadSchema;
/** A valid `decide` payload. */
export type DecidePayload = z.infer<typeof DecidePayload>;

/** The `raiseBudget` signal payload as the run validates it. */
export const RaiseBudgetPayload = RaiseBudgetPayloadSchema;
/** A valid `raiseBudget` payload. */
export type RaiseBudgetPayload = z.infer<typeof RaiseBudgetPayload>;

/** The built-in team (designer, writer, coder, tester) as a run's `roles`, for scripts without a config file. */
export function defaultRunRoles(): RoleInfo[] {
  return DEFAULT_ROLES.map(roleInfoOf);
}
