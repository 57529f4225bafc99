/**
 * `maestro-agents`: the programmatic API. Connect with the CLI's settings, start runs, follow
 * their events, decide at their gates, read results and files. Everything a script needs is
 * exported here by name; the wire definitions for raw `@temporalio/client` code are in
 * `maestro-agents/wire`.
 *
 * ```ts
 * import { connectMaestro } from 'maestro-agents';
 * const maestro = await connectMaestro();
 * const runId = await maestro.start('Build a landing page for a coffee shop');
 * for await (const e of maestro.events(runId)) console.log(e.type);
 * ```
 */
export { connectMaestro, type ConnectMaestroOptions } from './client/connect';
export {
  MaestroClient,
  type GateDecision,
  type MaestroClientDefaults,
  type RunList,
  type RunListItem,
} from './client/api';
export {
  buildRunInput,
  newRunId,
  validateGoal,
  validateNotifyUrls,
  type RunInputContext,
  type StartRunOptions,
} from './client/run-input';
export { describeFailure } from './client/run-views';
export type { CancelledRunResult, MaestroRunResult } from './client/cancelled-result';
export {
  decisionRefused,
  DecisionRefusedError,
  GateNotPendingError,
  InputError,
  MaestroError,
  NoWorkerError,
  RunEndedError,
  RunNotFoundError,
  TemporalUnreachableError,
} from './client/errors';
export { ConfigError, loadConfig, runRoles, type MaestroConfig } from './config';
export { LIST_PHASES, type ListPhase, type ListRunsOptions } from './client/list-filters';
export type { ModelPrice } from './activities/llm/pricing';
export type { EncryptionKeys } from './codec/keys';
export type { TlsSettings } from './config-tls';
export type { RunEventsOptions } from './client/watch/events-stream';
export type { GateClosedEvent, GateOpenedEvent, WatchEvent } from './client/watch/events';
export type { RetryView } from './client/watch/llm-progress';
export type { Usage } from './shared/usage';
export type { ApproveHints } from './client/watch/approve-hints';
export type { TicketLine } from './client/watch/render';
export { notificationPayload } from './activities/notify/payload';
export type { RoleDefinition } from './shared/roles';
export { EXECUTOR_AGENTS, type ExecutorAgent, type ExecutorSettings } from './shared/executor-settings';
export type { RecordPart, RunRecords } from './shared/run-records';
export { RunTraceClientInterceptor } from './telemetry/client-tracing';
export type { AgentSettings, McpServerRef, ToolCallRecord, ToolNotRun } from './shared/tools';
export type { RepoCommit, RepoInput, RepoResult, RepoSnapshot, RepoTestResult, RepoWork } from './shared/repo';
export type {
  AuditEntry,
  Budget,
  CostView,
  EpicContext,
  GateKind,
  GateView,
  ManifestEntry,
  ReplanView,
  RoleInfo,
  RunInput,
  RunPhase,
  RunResult,
  RunStatus,
  SubRunView,
  TicketView,
} from './shared/types';
export type { MaestroNotification, NotificationEvent, NotificationFacts } from './shared/notifications';
export type { Decision, DecideRequest, DecideResult, RaiseBudgetSignal } from './shared/messages';
