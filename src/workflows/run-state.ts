/**
 * The orchestrator's state: plan, tickets, outputs, spending, gates and audit. Pure and
 * deterministic, so the workflow files only wire handlers and await; everything the status
 * query shows comes from here.
 */
import { patched, upsertMemo } from '@temporalio/workflow';
import { ticketWorkflowId } from '../shared/constants';
import type { RunBill } from '../shared/run-bill';
import type { FinalReport, Plan } from '../shared/schemas';
import type { ToolCallRecord } from '../shared/tools';
import type {
  Budget,
  CostView,
  LlmCallRecord,
  ManifestEntry,
  RunInput,
  RunPhase,
  RunResult,
  ReplanView,
  RunStatus,
  TicketOutcome,
  TicketOutput,
  TicketState,
  TicketView,
} from '../shared/types';
import { emptyUsage, totalTokens, type Usage } from '../shared/usage';
import { BOSS_ROLE } from '../shared/roles';
import { acceptedOverFailureIds, runStatusOf } from '../shared/outcomes';
import { runDetails, type EpicDetails } from './details';
import { GateBook, type GateBookData } from './gates';
import { RunLedger, type LedgerData } from './run-ledger';
import { BILL_MEMO_PATCH } from './patches';
import { branchDetails, RepoBranch, type RepoBranchData } from './repo-branch';
import type { RepoCommit, RepoResult } from '../shared/repo';

export { BOSS_ROLE };

/** A RunState as plain data, carried when a run continues as new (see continue-as-new.ts). */
export interface RunStateData extends LedgerData {
  plan: Plan;
  planAttempts: number;
  budget?: Budget;
  book: GateBookData;
  tickets: TicketView[];
  outputs: TicketOutput[];
  manifest: ManifestEntry[];
  toolCalls: ToolCallRecord[];
  /** Failing-check evidence of re-opened tickets (absent in carries of older code). */
  testFailures?: [string, string][];
  /** `first-use` tools a person approved in this run (absent in carries of older code). */
  toolsApprovedOnce?: string[];
  /** A sub-run told to stop spending (absent in carries of older code). */
  spendingStopped?: boolean;
  /** Repo runs: the run branch (absent in other runs). */
  repo?: RepoBranchData;
}

/** Mutable state of one run, owned by the orchestrator workflow. */
export class RunState {
  phase: RunPhase = 'planning';
  plan?: Plan;
  planAttempts = 0;
  /** Why the Boss planned again, as it happened (see replans.ts). */
  readonly replans: ReplanView[] = [];
  error?: string;
  /** Increases on every change the scheduler may need to react to. */
  version = 0;
  readonly book: GateBook;
  /** A sub-run that draws on its parent's budget was told to stop spending (tree-budget.ts). */
  spendingStopped = false;
  /** The run's cap; raised by `raiseBudget` or a budget-gate approval. */
  budget?: Budget;
  /**
   * HTTP calls the next Boss activity of the run may make under the budget (undefined: no
   * limit); the orchestrator sets it from its budget controller.
   */
  bossCallPermits: () => number | undefined = () => undefined;
  /**
   * Awaited before each Boss activity of the run, and told after it was booked: a sub-run that
   * draws on its parent's permits asks for them here (tree-budget.ts); elsewhere nothing happens.
   */
  bossPermit: () => Promise<void> = () => Promise.resolve();
  bossSettled: () => void = () => undefined;

  /** Books a Boss activity of the run that ended (its calls, or a failure's), then settles its permit. */
  bookBossActivity(spent: { usage: Usage; calls?: LlmCallRecord[] } | { failedCalls: LlmCallRecord[] }): void {
    if ('failedCalls' in spent) this.ledger.chargeFailedCalls(spent.failedCalls);
    else {
      this.ledger.spend(BOSS_ROLE, spent.usage);
      this.ledger.recordCalls(spent.calls);
    }
    this.bossSettled();
  }
  /** Told of every ticket state change (the scheduler keeps its ready/blocked sets with it). */
  onMark?: (id: string, state: TicketState) => void;
  private readonly tickets = new Map<string, TicketView>();
  /** Tickets per state and the running ones, kept as tickets move (the details read them). */
  private readonly counts = new Map<TicketState, number>();
  private readonly running = new Set<string>();
  private readonly outputs = new Map<string, TicketOutput>();
  private readonly manifest: ManifestEntry[] = [];
  /** Every LLM call of the run, as the activities recorded them. */
  private readonly toolCalls: ToolCallRecord[] = [];
  /** Evidence of the failing check that last re-opened a ticket, by ticket id. */
  private readonly testFailures = new Map<string, string>();
  /** `first-use` tools a person approved in this run: not asked about again (tool-approvals.ts). */
  readonly toolsApprovedOnce = new Set<string>();
  /** Repo runs: the run branch and its merge queue (repo-branch.ts); absent in other runs. */
  readonly branch?: RepoBranch;
  /** The run's bill: spending, calls on record, what running children reported (run-ledger.ts). */
  readonly ledger = new RunLedger(
    (id) => this.tickets.get(id),
    () => this.version++,
  );

  constructor(
    readonly runId: string,
    readonly input: RunInput,
    now: () => string,
  ) {
    this.book = new GateBook(now);
    this.budget = input.budget ? { ...input.budget } : undefined;
    if (input.repo) this.branch = new RepoBranch(input.repo, runId);
  }

  /** Everything this state holds, as plain data (continue-as-new; the plan must be adopted). */
  snapshot(): RunStateData {
    if (!this.plan) throw new Error('snapshot() before a plan was adopted');
    return {
      plan: this.plan,
      planAttempts: this.planAttempts,
      ...(this.budget ? { budget: this.budget } : {}),
      book: this.book.snapshot(),
      tickets: [...this.tickets.values()],
      outputs: [...this.outputs.values()],
      manifest: this.manifest,
      ...this.ledger.snapshot(),
      toolCalls: this.toolCalls,
      testFailures: [...this.testFailures],
      ...(this.toolsApprovedOnce.size > 0 ? { toolsApprovedOnce: [...this.toolsApprovedOnce] } : {}),
      ...(this.spendingStopped ? { spendingStopped: true } : {}),
      ...(this.branch ? { repo: this.branch.snapshot() } : {}),
    };
  }

  /** Takes over the state carried from the run's previous execution (before any change). */
  restore(data: RunStateData): void {
    this.adoptPlan(data.plan);
    this.planAttempts = data.planAttempts;
    this.phase = 'executing';
    this.budget = data.budget ? { ...data.budget } : undefined;
    this.book.restore(data.book);
    for (const t of data.tickets) {
      this.mark(t.id, t.state);
      Object.assign(this.ticket(t.id), t);
    }
    for (const o of data.outputs) this.outputs.set(o.ticketId, o);
    this.manifest.push(...data.manifest);
    this.ledger.restore(data);
    this.toolCalls.push(...data.toolCalls);
    for (const [id, evidence] of data.testFailures ?? []) this.testFailures.set(id, evidence);
    for (const tool of data.toolsApprovedOnce ?? []) this.toolsApprovedOnce.add(tool);
    this.spendingStopped = data.spendingStopped === true;
    if (data.repo) this.branch?.restore(data.repo);
  }

  /** The view of ticket `id` whose usage the ledger books (throws for an unknown ticket). */
  ticketView(id: string): TicketView {
    return this.ticket(id);
  }

  /** Whether the run's spending has reached its cap. */
  overBudget(): boolean {
    if (this.spendingStopped) return true;
    const b = this.budget;
    if (!b) return false;
    return (
      (b.usd !== undefined && this.ledger.usage.usd >= b.usd) ||
      (b.tokens !== undefined && totalTokens(this.ledger.usage) >= b.tokens)
    );
  }

  /** Adopts a validated plan; every ticket starts pending. */
  adoptPlan(plan: Plan): void {
    this.plan = plan;
    this.tickets.clear();
    this.counts.clear();
    this.running.clear();
    this.count('pending', plan.tickets.length);
    for (const t of plan.tickets) {
      this.tickets.set(t.id, {
        id: t.id,
        role: t.role,
        title: t.title,
        state: 'pending',
        dependsOn: t.dependsOn,
        attempts: 0,
        childId: ticketWorkflowId(this.runId, t.id),
        usage: emptyUsage(),
      });
    }
    this.version++;
  }

  /** Ids of the plan's tickets (for validating messages). */
  ticketIds(): string[] {
    return [...this.tickets.keys()];
  }

  /** How many tickets are in each state (kept as tickets move, not counted on demand). */
  stateCounts(): ReadonlyMap<TicketState, number> {
    return this.counts;
  }

  /** How many tickets the plan has. */
  ticketCount(): number {
    return this.tickets.size;
  }

  /** Whether the plan has this ticket (constant time: checked on every permit signal). */
  hasTicket(id: string): boolean {
    return this.tickets.has(id);
  }

  /** Ids of the running tickets (kept as tickets move: constant time to get). */
  runningIds(): ReadonlySet<string> {
    return this.running;
  }

  /** Current state of every ticket, for the scheduler. */
  states(): Map<string, TicketState> {
    return new Map([...this.tickets.values()].map((t) => [t.id, t.state]));
  }

  /** Outputs of a ticket's dependencies (all accepted when it is ready). */
  dependencyOutputs(ids: readonly string[]): TicketOutput[] {
    return ids.map((id) => this.outputs.get(id)).filter((o): o is TicketOutput => o !== undefined);
  }

  /** Moves a ticket to a new state (and records an error for failed ones). */
  mark(id: string, state: TicketState, error?: string): void {
    const t = this.ticket(id);
    this.count(t.state, -1);
    this.count(state, 1);
    if (state === 'running') this.running.add(id);
    else this.running.delete(id);
    t.state = state;
    // An accepted ticket carries no error; what an overruled one failed is in `overruled`.
    if (state === 'accepted') delete t.error;
    else if (error !== undefined) t.error = error;
    else if (state === 'running') delete t.error;
    if (state !== 'accepted') {
      delete t.acceptedOverFailures;
      delete t.overruled;
    }
    this.version++;
    this.onMark?.(id, state);
  }

  /** Books a finished child's spending (the part not reported call by call) and its attempts. */
  settleSpending(outcome: TicketOutcome): void {
    const t = this.ticket(outcome.ticketId);
    t.attempts += outcome.attempts;
    if (outcome.toolCalls) this.toolCalls.push(...outcome.toolCalls);
    this.ledger.settle(t, outcome);
  }

  /**
   * Accepts a ticket's result: its output feeds dependents and its files the output folder.
   * `overruled` says why it is accepted although it was not accepted on its merits (who approved
   * it anyway at its gate): the ticket is then flagged `acceptedOverFailures` with what it failed,
   * so no view and no run status can count it as a success (shared/outcomes.ts).
   */
  accept(outcome: TicketOutcome, overruled?: string, commit?: RepoCommit): void {
    const t = this.ticket(outcome.ticketId);
    const failed = t.error;
    t.summary = outcome.summary;
    this.outputs.set(t.id, {
      ticketId: t.id,
      role: t.role,
      title: t.title,
      summary: outcome.summary,
      artifacts: outcome.artifacts,
      // Repo runs: the ticket's commit on the branch (dependents see its diff).
      ...(commit ? { commit } : {}),
    });
    for (const a of outcome.artifacts) this.manifest.push({ ...a, ticketId: t.id });
    this.mark(t.id, 'accepted');
    if (overruled !== undefined) {
      t.acceptedOverFailures = true;
      t.overruled = failed ? `${failed} — ${overruled}` : overruled;
    }
  }

  /**
   * Sends an accepted ticket back (a ticket testing it failed its checks): its output and files
   * are withdrawn, so nothing runs on them until it is accepted again, and the re-open is counted.
   */
  reopen(id: string, note: string, evidence?: string): number {
    const t = this.ticket(id);
    if (evidence !== undefined) this.testFailures.set(id, evidence);
    t.reopened = (t.reopened ?? 0) + 1;
    delete t.summary;
    this.outputs.delete(id);
    for (let i = this.manifest.length - 1; i >= 0; i--)
      if (this.manifest[i]!.ticketId === id) this.manifest.splice(i, 1);
    this.mark(id, 'pending', note);
    return t.reopened;
  }

  /** The ticket input field of a re-opened ticket: the failing check its review must see. */
  testFailureOf(id: string): { testFailure: string } | Record<string, never> {
    const evidence = this.testFailures.get(id);
    return evidence !== undefined ? { testFailure: evidence } : {};
  }

  /** Tickets that depend on `id` directly. */
  dependentsOf(id: string): TicketView[] {
    return [...this.tickets.values()].filter((t) => t.dependsOn.includes(id));
  }

  /** Times a ticket was re-opened. */
  reopenedCount(id: string): number {
    return this.ticket(id).reopened ?? 0;
  }

  /** The role of one ticket (an epic's is `boss`). */
  roleOf(id: string): string | undefined {
    return this.tickets.get(id)?.role;
  }

  /** The state of one ticket. */
  stateOf(id: string): TicketState | undefined {
    return this.tickets.get(id)?.state;
  }

  /** Money and tokens so far. */
  cost(): CostView {
    const { usage, byRole } = this.ledger;
    return { usd: usage.usd, tokens: totalTokens(usage), usage, byRole: { ...byRole } };
  }

  /** Files of accepted tickets, in the order they were accepted. */
  files(): ManifestEntry[] {
    return [...this.manifest];
  }

  /** Answer of the `status` query. */
  status(): RunStatus {
    return {
      runId: this.runId,
      goal: this.input.goal,
      phase: this.phase,
      planSummary: this.plan?.summary,
      planAttempts: this.planAttempts,
      ...(this.replans.length > 0 ? { replans: this.replans.map((r) => ({ ...r })) } : {}),
      tickets: this.ticketViews(),
      pendingGates: this.book.pending().map((g) => ({ ...g })),
      cost: this.cost(),
      ...(this.budget ? { budget: { ...this.budget } } : {}),
      audit: [...this.book.audit],
      ...(this.toolCalls.length > 0 ? { toolCalls: [...this.toolCalls] } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  /** The run's result once it has ended (with or without a Boss report). */
  result(report: FinalReport, status?: RunResult['status']): RunResult {
    if (!this.plan) throw new Error('result() before a plan was adopted');
    const views = this.ticketViews();
    const overFailures = acceptedOverFailureIds(views);
    return {
      runId: this.runId,
      goal: this.input.goal,
      // A branch whose own tests fail is never a completed run, whatever its tickets' reviews said.
      status: status ?? (this.branch?.tests?.passed === false ? 'partial' : runStatusOf(views)),
      plan: this.plan,
      planAttempts: this.planAttempts,
      // A run that completes between two polls still shows why it planned again.
      ...(this.replans.length > 0 ? { replans: this.replans.map((r) => ({ ...r })) } : {}),
      report,
      tickets: views,
      manifest: this.files(),
      cost: this.cost(),
      ...(overFailures.length > 0 ? { acceptedOverFailures: overFailures } : {}),
      gates: this.book.gates.map((g) => ({ ...g })),
      audit: [...this.book.audit],
      calls: [...this.ledger.calls],
      ...(this.toolCalls.length > 0 ? { toolCalls: [...this.toolCalls] } : {}),
      ...(this.branch ? { repo: this.repoResult(this.branch) } : {}),
    };
  }

  /** RunResult.repo: the branch delivered, its commits and the tests on its head. */
  private repoResult(b: RepoBranch): RepoResult {
    return {
      branch: b.input.branch,
      base: b.input.snapshot.base,
      head: b.head.head,
      ...(b.head.series ? { series: b.head.series } : {}),
      commits: [...b.commits],
      ...(b.tests ? { tests: b.tests } : {}),
    };
  }

  /**
   * Markdown for the Web UI's "current details": pending gates first, then the tickets (one row
   * each up to DETAILS_ROWS tickets; beyond that counts per state and the running tickets).
   * `epics` adds the sub-runs' pending gates and each epic's progress (see epic-progress.ts).
   */
  details(epics?: EpicDetails): string {
    const text = runDetails({
      ...(epics ? { epics } : {}),
      gates: this.book.pending(),
      phase: this.phase,
      usage: this.ledger.usage,
      budgetUsd: this.budget?.usd,
      tickets: this.tickets,
      counts: this.counts,
      running: this.running,
      toolCalls: this.toolCalls,
    });
    return this.branch ? `${text}\n\n${branchDetails(this.branch)}` : text;
  }

  /** Copies of the tickets as the status query shows them. */
  ticketViews(): TicketView[] {
    return [...this.tickets.values()].map((t) => ({ ...t, dependsOn: [...t.dependsOn], usage: { ...t.usage } }));
  }

  private count(state: TicketState, delta: number): void {
    this.counts.set(state, (this.counts.get(state) ?? 0) + delta);
  }

  private ticket(id: string): TicketView {
    const t = this.tickets.get(id);
    if (!t) throw new Error(`unknown ticket ${id}`);
    return t;
  }
}

/**
 * Keeps a failed or cancelled run's bill in its memo (shared/run-bill.ts): a closed run that no
 * worker replays still shows what it spent. Histories recorded before it wrote no memo.
 */
export function keepBillInMemo(state: RunState): void {
  if (!patched(BILL_MEMO_PATCH)) return;
  const bill: RunBill = { planAttempts: state.planAttempts, cost: state.cost() };
  upsertMemo({ bill });
}
