/**
 * Plain data that travels through workflow histories. Only references and summaries:
 * file contents stay in the artifact store (claim check), keeping payloads small.
 */
import type { FinalReport, Plan, Ticket } from './schemas';
import type { AgentSettings, ToolCallRecord } from './tools';
import type { ExecutorSettings } from './executor-settings';
import type { Usage } from './usage';
import type { RunRecords } from './run-records';
import type { RepoCommit, RepoInput, RepoResult, RepoWork } from './repo';

/** A file in the artifact store, addressed by content hash. */
export interface ArtifactRef {
  /** Path relative to the run's output folder, as the worker named it. */
  path: string;
  sha256: string;
  bytes: number;
  /** Where the store keeps it (file:// for the filesystem store). */
  uri: string;
}

/**
 * Retry settings of one role's work activity, as plain data (it travels in workflow inputs).
 * Unset fields keep the defaults of `LLM_ACTIVITY`; non-retryable failure types always apply.
 */
export interface RoleRetryPolicy {
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
  /** Attempts in total, the first included (1 = never retry). */
  maximumAttempts?: number;
}

/** A worker role the Boss can assign tickets to. */
export interface RoleInfo {
  name: string;
  description: string;
  /** Task queue of this role's work activity when it has its own workers (else the run's queue). */
  taskQueue?: string;
  /** Retry policy of this role's work activity. */
  retry?: RoleRetryPolicy;
  /** The model configured for the role where the run was started (shown in activity summaries). */
  model?: string;
  /** Tools of the role: when set, its tickets run as agent loops instead of one LLM call. */
  agent?: AgentSettings;
  /** A coding-agent CLI works the role's tickets (one `runExecutor` activity per attempt). */
  executor?: ExecutorSettings;
}

/** What an LLM call was for: planning, a worker's ticket, a review, the final report. */
export type LlmCallKind = 'plan' | 'work' | 'review' | 'final';

/**
 * One HTTP call to a model, as recorded by the activity that made it (repair calls and calls of
 * failed attempts included), so a run can show where every token, dollar and second went.
 */
export interface LlmCallRecord {
  kind: LlmCallKind;
  /** The worker role, or `boss`. */
  role: string;
  ticketId?: string;
  /** The model that answered (as the provider reports it), else the one asked for. */
  model: string;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  usd: number;
  latencyMs: number;
  /** Temporal activity attempt (1-based) the call belongs to. */
  attempt: number;
  /** ISO time the request was sent. */
  startedAt: string;
  /** True for the repair call that showed the model its invalid answer. */
  repaired: boolean;
  /** Failure type when the call got no usable answer (rate limit, 5xx, timeout, bad output...). */
  error?: string;
  /** Part of `completionTokens` the model spent reasoning (reasoning models; absent: none reported). */
  reasoningTokens?: number;
  /** True when the token counts are estimates: the provider sent no usage (tokenizer) or the call timed out (prompt only). */
  estimated?: boolean;
  /** Structured-output mode of the request (json_schema, json_object, tool or text). */
  outputMode?: string;
  /** Task queue of the activity that made the call (shows per-role routing). */
  taskQueue?: string;
  /** Identity of the worker process (`pid@host`) that made the call. */
  workerIdentity?: string;
  /** The coding-agent CLI (e.g. `codex`) that made the call through Maestro's LLM gateway. */
  executor?: string;
}

/** What an accepted ticket hands to the tickets that depend on it. */
export interface TicketOutput {
  ticketId: string;
  role: string;
  title: string;
  summary: string;
  artifacts: ArtifactRef[];
  /** Repo runs: the ticket's commit on the run branch (its diff is what dependents see). */
  commit?: RepoCommit;
}

/** Lifecycle of a ticket inside a run. */
export type TicketState = 'pending' | 'running' | 'accepted' | 'escalated' | 'failed' | 'blocked' | 'skipped';

/** Lifecycle of a run. */
export type RunPhase = 'planning' | 'executing' | 'finalizing' | 'completed' | 'stopped' | 'failed' | 'cancelled';

/** One review round of a ticket. */
export interface ReviewRecord {
  attempt: number;
  verdict: 'accept' | 'revise';
  feedback: string;
}

/** Money and token caps; either may be left out. */
export interface Budget {
  usd?: number;
  tokens?: number;
}

/** Timeout handling of one gate kind, as given to a run. */
export interface GatePolicyInput {
  /** Milliseconds to wait for a person before `onTimeout` applies; absent waits forever. */
  timeoutMs?: number;
  onTimeout?: 'approve' | 'reject' | 'fail' | 'wait';
}

/** Input of the orchestrator workflow (one object so fields can be added safely). */
export interface RunInput {
  goal: string;
  roles: RoleInfo[];
  maxParallel?: number;
  maxRevisions?: number;
  maxReplans?: number;
  /**
   * Times one ticket may be re-opened because a ticket testing it failed its checks (default 2);
   * past it the testing ticket goes to a ticket gate.
   */
  maxReopens?: number;
  /** 'manual' waits for a person to approve the plan (default 'auto'). */
  planApproval?: 'manual' | 'auto';
  /** 'manual' waits for a person to approve the final result (default 'auto'). */
  finalApproval?: 'manual' | 'auto';
  /** Per gate kind: how long to wait and what to do then (default: wait forever). */
  gatePolicies?: Partial<Record<'plan' | 'ticket' | 'final' | 'budget', GatePolicyInput>>;
  /** Cap of the whole run; reaching it opens a budget gate. */
  budget?: Budget;
  /** Cap of each ticket; reaching it escalates the ticket. */
  ticketBudget?: Budget;
  /** The Boss's model as configured where the run was started (shown in activity summaries). */
  bossModel?: string;
  /** Whether Maestro's search attributes are registered, so the run may upsert them. */
  searchAttributes?: boolean;
  /**
   * Timeout of one HTTP call to a model (MAESTRO_LLM_TIMEOUT_MS where the run was started); the
   * activities' start-to-close and schedule-to-close derive from it (shared/llm-timeouts.ts).
   */
  llmTimeoutMs?: number;
  /**
   * How long a role's work may wait on the role's own task queue for a worker before the ticket
   * fails with the reason (default 5 minutes); roles without their own queue never time out.
   */
  queueWaitMs?: number;
  /** Webhooks told when a gate opens and when the run ends (absent: none, and no notify activity). */
  notify?: NotifyInput;
  /**
   * The run continues as new (at the next moment no ticket child is in flight) once its history
   * has this many events; default 10,000. Tests set it low to exercise continue-as-new.
   */
  maxHistoryEvents?: number;
  /** Whether the Boss may plan epics that sub-Bosses run (shared/epics.ts; default false). */
  epics?: boolean;
  /** Set on the sub-run of an epic: which epic of which run it is, and its Boss's level. */
  epic?: EpicContext;
  /** Set by `--repo`: the run works on this git repository and delivers a branch (shared/repo.ts). */
  repo?: RepoInput;
}

/** What a sub-run knows of its place in the tree (its workflow id is `<parentRunId>/<ticketId>`). */
export interface EpicContext {
  parentRunId: string;
  ticketId: string;
  /** Level of the sub-run's Boss (the top run's Boss is level 1). */
  level: number;
  /**
   * The parent has a budget and the sub-run draws every LLM call from the parent's permits (it
   * has no cap of its own; see workflows/tree-budget.ts). Absent in sub-runs started before.
   */
  parentBudget?: boolean;
}

/** Where a run posts its gate and end notifications, and the Web UI link those posts carry. */
export interface NotifyInput {
  /** http(s) URLs that receive a JSON POST (a Slack incoming-webhook URL works as is). */
  urls: string[];
  /** Base URL of the Temporal Web UI (e.g. http://localhost:8233), for the run's link. */
  webUiUrl?: string;
}

/** Input of one ticket child workflow. */
export interface TicketInput {
  runId: string;
  ticket: Ticket;
  /** The configured role of the ticket (routing and retry settings travel with it). */
  role?: RoleInfo;
  dependencies: TicketOutput[];
  maxRevisions: number;
  /** A person's feedback when they sent an escalated ticket back for another round. */
  initialFeedback?: string;
  /**
   * When a failing check of a ticket testing this one re-opened it: that check's evidence, which
   * the Boss's review of every attempt of this round sees (did the fix address it?).
   */
  testFailure?: string;
  /** The Boss's model label, for the review activity's summary. */
  bossModel?: string;
  /** Per-ticket cap; the child stops and escalates before a call once it is reached. */
  budget?: Budget;
  /** When the run has a budget, the child asks the run for permission before each LLM call. */
  budgetPermits?: boolean;
  /**
   * Permit batch 1 granted when the run started the child (calls it allows), so the child's first
   * LLM activity needs no request round trip; absent: the child asks as for every other batch.
   * `nonce`: what the batch's report must echo (absent in runs recorded before grant nonces).
   */
  firstGrant?: { calls: number; nonce?: string };
  /** The run's HTTP timeout of one LLM call (see RunInput). */
  llmTimeoutMs?: number;
  /** The run's wait for a worker on the role's own queue (see RunInput). */
  queueWaitMs?: number;
  /** Repo runs: the tree the ticket works on (base plus the tickets merged when it started). */
  repo?: RepoWork;
}

/** How a ticket child ended. */
export interface TicketOutcome {
  ticketId: string;
  status: 'accepted' | 'escalated';
  /** Why it was escalated: the reviewer never accepted it, its budget ran out, its agent ran out of turns, a check found fault with a dependency, or its epic's sub-run did not complete. */
  escalation?: 'revisions' | 'budget' | 'turns' | 'reopen' | 'epic';
  /**
   * With escalation 'reopen': the dependencies the Boss found at fault for this ticket's failing
   * checks, each with the feedback it gets (the run re-opens them, then runs this ticket again).
   */
  reopen?: ReopenRequest[];
  /** Details of the escalation for the person deciding (e.g. what the agent did last). */
  escalationReason?: string;
  attempts: number;
  summary: string;
  artifacts: ArtifactRef[];
  reviews: ReviewRecord[];
  /** Spent by the worker role. */
  workUsage: Usage;
  /** Spent by the Boss reviewing this ticket. */
  reviewUsage: Usage;
  /**
   * Every LLM call of the ticket (work and review, all attempts), oldest first. Optional: absent
   * in outcomes recorded before it existed and in outcomes a gate decision makes up.
   */
  calls?: LlmCallRecord[];
  /** Every tool call of the ticket's agent loops (absent for roles without tools). */
  toolCalls?: ToolCallRecord[];
  /** An accepted epic whose sub-run did not accept everything: what is missing (it is accepted over failures). */
  shortfall?: string;
  /** An epic's spending by role across its sub-run (then booked by role instead of work/review). */
  usageByRole?: Record<string, Usage>;
}

/** A dependency the Boss sends back because a ticket testing it failed its checks. */
export interface ReopenRequest {
  ticketId: string;
  feedback: string;
}

/** A ticket as the status query and the result show it. */
export interface TicketView {
  id: string;
  role: string;
  title: string;
  state: TicketState;
  dependsOn: string[];
  attempts: number;
  childId: string;
  summary?: string;
  error?: string;
  /**
   * What this ticket spent: work and Boss reviews, every attempt. Its cost in dollars is
   * `ticket.usage.usd` (tokens: `promptTokens + completionTokens`); the run's total is `cost.usd`.
   */
  usage: Usage;
  /** Times a failing check of a ticket testing it sent this ticket back (absent: never). */
  reopened?: number;
  /**
   * Accepted at its ticket gate although it was not accepted on its merits (approved anyway by a
   * person, `--yes --accept-failing` or a timeout policy; an epic whose sub-run did not accept
   * everything): the run then ends `partial`, never `completed` (see shared/outcomes.ts).
   */
  acceptedOverFailures?: true;
  /** With acceptedOverFailures: what the ticket failed and who accepted it anyway. */
  overruled?: string;
}

/** Money and tokens of a run, for people and scripts. */
export interface CostView {
  usd: number;
  tokens: number;
  usage: Usage;
  byRole: Record<string, Usage>;
}

/** Kinds of human approval gates. */
export type GateKind = 'plan' | 'ticket' | 'final' | 'budget';

/** What happens when a gate's timeout passes without a decision. */
export type GateTimeoutPolicy = 'approve' | 'reject' | 'fail' | 'wait';

/** A gate as the status query and the audit show it. */
export interface GateView {
  /** Unique within the run, e.g. `plan#1`, `ticket:T3#1`, `budget#2`. */
  id: string;
  kind: GateKind;
  ticketId?: string;
  /** Why the gate opened, for the person deciding. */
  reason: string;
  openedAt: string;
  /** When the timeout policy applies (absent: waits forever). */
  deadline?: string;
  onTimeout: GateTimeoutPolicy;
  state: 'pending' | 'approved' | 'rejected' | 'timed-out';
  /** Decisions this gate takes (a ticket without a result cannot be approved); absent in old runs. */
  decisions?: ('approve' | 'reject' | 'retry' | 'skip' | 'abort')[];
  /** Set on a ticket gate that asks to approve a tool call (the tool's name), not to accept a ticket. */
  tool?: string;
  decision?: { decision: string; by: string; at: string; comment?: string };
}

/** One line of the audit log: decisions, ignored signals, budget changes, timeouts. */
export interface AuditEntry {
  at: string;
  by: string;
  action: string;
  gate?: string;
  ticketId?: string;
  comment?: string;
  /** For ignored input: why it was ignored. */
  error?: string;
  /** For ignored input, and budget raises past the listed ones: how many more came after this one (see audit-limit.ts). */
  repeats?: number;
  /** When the last of those came. */
  lastAt?: string;
}

/** One re-plan: the attempt it led to (attempt 2 is the first re-plan) and why. */
export interface ReplanView {
  attempt: number;
  reason: string;
}

/** Answer of the `status` query; the `maestro status --json` contract builds on it. */
export interface RunStatus {
  runId: string;
  goal: string;
  phase: RunPhase;
  planSummary?: string;
  planAttempts: number;
  /** Why the Boss planned again, one entry per re-plan as it happened (absent: none, or older runs). */
  replans?: ReplanView[];
  tickets: TicketView[];
  pendingGates: GateView[];
  cost: CostView;
  budget?: Budget;
  audit: AuditEntry[];
  /** Why `audit` is empty although the run has one: a large run's stored log could not be read here. */
  auditUnavailable?: string;
  /** Tool calls of finished agent attempts (absent when no role has tools). */
  toolCalls?: ToolCallRecord[];
  /** How a finished run ended (the result's status, or `failed`/`cancelled`); absent while it runs. */
  outcome?: RunResult['status'] | 'failed' | 'cancelled';
  error?: string;
  /** The sub-runs of the run's epics, filled in by the client from their own status (never by the query). */
  subRuns?: SubRunView[];
}

/** An epic's sub-run as shown beside its parent: counts instead of its tickets, and its pending gates. */
export interface SubRunView {
  /** The epic's ticket id in the parent run. */
  ticketId: string;
  /** The sub-run's workflow id (`<parentRunId>/<ticketId>`). */
  runId: string;
  phase: RunPhase;
  /** How many of its tickets are in each state. */
  counts: Partial<Record<TicketState, number>>;
  tickets: number;
  pendingGates: GateView[];
  cost: { usd: number; tokens: number };
}

/** A produced file with the ticket that made it, for assembling the output folder. */
export interface ManifestEntry extends ArtifactRef {
  ticketId: string;
}

/** What a finished run returns. */
export interface RunResult {
  runId: string;
  goal: string;
  /** completed: all accepted on their merits; partial: some not (or accepted over failing checks); stopped: a person ended it at the budget gate; rejected: the final result was rejected after its revision. */
  status: 'completed' | 'partial' | 'stopped' | 'rejected';
  plan: Plan;
  planAttempts: number;
  /** Why the Boss planned again (absent: it did not, or older runs). */
  replans?: ReplanView[];
  gates: GateView[];
  audit: AuditEntry[];
  /** Every LLM call of the run (plan, work, reviews, report), for cost and latency analysis. */
  calls: LlmCallRecord[];
  /** Every tool call of the run's agent loops, beside the LLM calls (absent when no role has tools). */
  toolCalls?: ToolCallRecord[];
  report: FinalReport;
  tickets: TicketView[];
  manifest: ManifestEntry[];
  cost: CostView;
  /** Ids of the tickets accepted over failing checks (absent: none); such a run is `partial`. */
  acceptedOverFailures?: string[];
  /** Repo runs: the delivered branch, one commit per accepted ticket, and the tests on it. */
  repo?: RepoResult;
  /**
   * Set when the plan, manifest and call records were too large to return inline: they are in
   * the artifact store (these references) and empty here; `restoreRecords` brings them back.
   */
  records?: RunRecords;
}
