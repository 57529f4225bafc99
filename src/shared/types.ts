/**
 * Plain data that travels through workflow histories. Only references and summaries:
 * file contents stay in the artifact store (claim check), keeping payloads small.
 */
import type { FinalReport, Plan, Ticket } from './schemas';
import type { Usage } from './usage';

/** A file in the artifact store, addressed by content hash. */
export interface ArtifactRef {
  /** Path relative to the run's output folder, as the worker named it. */
  path: string;
  sha256: string;
  bytes: number;
  /** Where the store keeps it (file:// for the filesystem store). */
  uri: string;
}

/** A worker role the Boss can assign tickets to. */
export interface RoleInfo {
  name: string;
  description: string;
}

/** What an accepted ticket hands to the tickets that depend on it. */
export interface TicketOutput {
  ticketId: string;
  role: string;
  title: string;
  summary: string;
  artifacts: ArtifactRef[];
}

/** Lifecycle of a ticket inside a run. */
export type TicketState = 'pending' | 'running' | 'accepted' | 'escalated' | 'failed' | 'blocked' | 'skipped';

/** Lifecycle of a run. */
export type RunPhase = 'planning' | 'executing' | 'finalizing' | 'completed' | 'failed' | 'cancelled';

/** One review round of a ticket. */
export interface ReviewRecord {
  attempt: number;
  verdict: 'accept' | 'revise';
  feedback: string;
}

/** Input of the orchestrator workflow (one object so fields can be added safely). */
export interface RunInput {
  goal: string;
  roles: RoleInfo[];
  maxParallel?: number;
  maxRevisions?: number;
  maxReplans?: number;
}

/** Input of one ticket child workflow. */
export interface TicketInput {
  runId: string;
  ticket: Ticket;
  dependencies: TicketOutput[];
  maxRevisions: number;
}

/** How a ticket child ended. */
export interface TicketOutcome {
  ticketId: string;
  status: 'accepted' | 'escalated';
  attempts: number;
  summary: string;
  artifacts: ArtifactRef[];
  reviews: ReviewRecord[];
  /** Spent by the worker role. */
  workUsage: Usage;
  /** Spent by the Boss reviewing this ticket. */
  reviewUsage: Usage;
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
  usage: Usage;
}

/** Money and tokens of a run, for people and scripts. */
export interface CostView {
  usd: number;
  tokens: number;
  usage: Usage;
  byRole: Record<string, Usage>;
}

/** Answer of the `status` query; the `maestro status --json` contract builds on it. */
export interface RunStatus {
  runId: string;
  goal: string;
  phase: RunPhase;
  planSummary?: string;
  planAttempts: number;
  tickets: TicketView[];
  pendingGates: unknown[];
  cost: CostView;
  error?: string;
}

/** A produced file with the ticket that made it, for assembling the output folder. */
export interface ManifestEntry extends ArtifactRef {
  ticketId: string;
}

/** What a finished run returns. */
export interface RunResult {
  runId: string;
  goal: string;
  status: 'completed' | 'partial';
  plan: Plan;
  planAttempts: number;
  report: FinalReport;
  tickets: TicketView[];
  manifest: ManifestEntry[];
  cost: CostView;
}
