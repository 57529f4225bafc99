/**
 * The orchestrator's state: plan, tickets, outputs and spending. Pure and deterministic, so the
 * workflow file only wires handlers and awaits; everything the status query shows comes from here.
 */
import { ticketWorkflowId } from '../shared/constants';
import type { FinalReport, Plan } from '../shared/schemas';
import type {
  CostView,
  ManifestEntry,
  RunInput,
  RunPhase,
  RunResult,
  RunStatus,
  TicketOutcome,
  TicketOutput,
  TicketState,
  TicketView,
} from '../shared/types';
import { addUsage, emptyUsage, totalTokens, type Usage } from '../shared/usage';

/** The Boss's share of the spending is booked under this role name. */
export const BOSS_ROLE = 'boss';

/** Mutable state of one run, owned by the orchestrator workflow. */
export class RunState {
  phase: RunPhase = 'planning';
  plan?: Plan;
  planAttempts = 0;
  error?: string;
  /** Increases on every ticket state change; the scheduler waits on it. */
  version = 0;
  private readonly tickets = new Map<string, TicketView>();
  private readonly outputs = new Map<string, TicketOutput>();
  private readonly manifest: ManifestEntry[] = [];
  private usage: Usage = emptyUsage();
  private readonly byRole: Record<string, Usage> = {};

  constructor(
    readonly runId: string,
    readonly input: RunInput,
  ) {}

  /** Books spending of one or more LLM calls to a role. */
  spend(role: string, usage: Usage): void {
    this.usage = addUsage(this.usage, usage);
    this.byRole[role] = addUsage(this.byRole[role] ?? emptyUsage(), usage);
  }

  /** Adopts a validated plan; every ticket starts pending. */
  adoptPlan(plan: Plan): void {
    this.plan = plan;
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
    t.state = state;
    if (error !== undefined) t.error = error;
    this.version++;
  }

  /** Records a finished child: its spending, its output, and accepted or escalated. */
  complete(outcome: TicketOutcome): void {
    const t = this.ticket(outcome.ticketId);
    t.attempts = outcome.attempts;
    t.summary = outcome.summary;
    t.usage = addUsage(outcome.workUsage, outcome.reviewUsage);
    this.spend(t.role, outcome.workUsage);
    this.spend(BOSS_ROLE, outcome.reviewUsage);
    if (outcome.status === 'accepted') {
      this.outputs.set(t.id, {
        ticketId: t.id,
        role: t.role,
        title: t.title,
        summary: outcome.summary,
        artifacts: outcome.artifacts,
      });
      for (const a of outcome.artifacts) this.manifest.push({ ...a, ticketId: t.id });
    } else {
      t.error = `not accepted after ${outcome.attempts} attempts: ${outcome.reviews.at(-1)?.feedback ?? ''}`;
    }
    this.mark(t.id, outcome.status);
  }

  /** Money and tokens so far. */
  cost(): CostView {
    return { usd: this.usage.usd, tokens: totalTokens(this.usage), usage: this.usage, byRole: { ...this.byRole } };
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
      tickets: this.ticketViews(),
      pendingGates: [],
      cost: this.cost(),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  /** The run's result once the final report is written. */
  result(report: FinalReport): RunResult {
    if (!this.plan) throw new Error('result() before a plan was adopted');
    const views = this.ticketViews();
    return {
      runId: this.runId,
      goal: this.input.goal,
      status: views.every((t) => t.state === 'accepted') ? 'completed' : 'partial',
      plan: this.plan,
      planAttempts: this.planAttempts,
      report,
      tickets: views,
      manifest: this.files(),
      cost: this.cost(),
    };
  }

  /** Markdown table of tickets for the Web UI's "current details". */
  details(): string {
    const rows = this.ticketViews().map(
      (t) =>
        `| ${t.id} | ${t.role} | ${t.state} | ${t.attempts} | $${t.usage.usd.toFixed(4)} | ${t.title.replace(/\|/g, '/')} |`,
    );
    return [
      `**Phase:** ${this.phase} · **Cost:** $${this.usage.usd.toFixed(4)} · **Tokens:** ${totalTokens(this.usage)}`,
      '',
      '| Ticket | Role | State | Attempts | Cost | Title |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n');
  }

  private ticketViews(): TicketView[] {
    return [...this.tickets.values()].map((t) => ({ ...t, dependsOn: [...t.dependsOn], usage: { ...t.usage } }));
  }

  private ticket(id: string): TicketView {
    const t = this.tickets.get(id);
    if (!t) throw new Error(`unknown ticket ${id}`);
    return t;
  }
}
