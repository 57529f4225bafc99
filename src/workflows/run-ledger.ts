/**
 * A run's bill: its spending in total and by role, every LLM call on record, what running
 * children reported of their spending, and the dearest call so far (the budget's safety margin).
 * RunState holds one; a ticket's own usage is kept on its view, given here by the caller. Pure
 * and deterministic like RunState, and carried across continue-as-new as part of its data.
 */
import type { LlmCallRecord, TicketOutcome, TicketView } from '../shared/types';
import { addUsage, emptyUsage, hasUsage, subtractUsage, totalTokens, usageOfRecord, type Usage } from '../shared/usage';
import { BOSS_ROLE } from '../shared/roles';

/**
 * What a running child reported of its spending, not yet settled by its outcome; for an epic's
 * sub-run also its cumulative spending by role as last reported (see tree-budget.ts).
 */
export interface ReportedSpend {
  work: Usage;
  review: Usage;
  byRole?: Record<string, Usage>;
}

/** The ledger's part of a run's carried data (see RunStateData). */
export interface LedgerData {
  usage: Usage;
  byRole: Record<string, Usage>;
  calls: LlmCallRecord[];
  reported: [string, ReportedSpend][];
  dearestCall: { usd: number; tokens: number };
}

const nothingReported = (): ReportedSpend => ({ work: emptyUsage(), review: emptyUsage() });

/** Books a run's LLM spending (see the file comment). */
export class RunLedger {
  usage: Usage = emptyUsage();
  readonly byRole: Record<string, Usage> = {};
  readonly calls: LlmCallRecord[] = [];
  /** Spending children reported call by call (budgeted runs), not yet settled by an outcome. */
  private readonly reported = new Map<string, ReportedSpend>();
  /** The most expensive single LLM call so far (dollars, tokens): the budget's safety margin. */
  readonly dearestCall = { usd: 0, tokens: 0 };

  /** `ticketOf` finds a ticket's view (undefined: no such ticket); `changed` marks the run as changed. */
  constructor(
    private readonly ticketOf: (id: string) => TicketView | undefined,
    private readonly changed: () => void,
  ) {}

  /** The ledger as plain data. */
  snapshot(): LedgerData {
    const { usage, byRole, calls, dearestCall } = this;
    return { usage, byRole, calls, reported: [...this.reported], dearestCall };
  }

  /** Takes over a carried ledger (before anything was booked). */
  restore(data: LedgerData): void {
    this.usage = data.usage;
    Object.assign(this.byRole, data.byRole);
    this.calls.push(...data.calls);
    for (const [id, r] of data.reported) this.reported.set(id, r);
    Object.assign(this.dearestCall, data.dearestCall);
  }

  /** Books spending of one or more LLM calls to a role. */
  spend(role: string, usage: Usage): void {
    const calls = Math.max(1, usage.calls);
    this.dearestCall.usd = Math.max(this.dearestCall.usd, usage.usd / calls);
    this.dearestCall.tokens = Math.max(this.dearestCall.tokens, totalTokens(usage) / calls);
    this.usage = addUsage(this.usage, usage);
    this.byRole[role] = addUsage(this.byRole[role] ?? emptyUsage(), usage);
    this.changed();
  }

  /** Keeps the records of LLM calls (absent in results of older workers). */
  recordCalls(calls: readonly LlmCallRecord[] | undefined): void {
    if (calls) this.calls.push(...calls);
  }

  /**
   * Books the calls of an activity that failed after its retries: on record, and charged to
   * their roles and ticket (a failed call was still paid for).
   */
  chargeFailedCalls(calls: readonly LlmCallRecord[]): void {
    for (const c of calls) {
      const usage = usageOfRecord(c);
      const t = c.ticketId !== undefined ? this.ticketOf(c.ticketId) : undefined;
      if (t) t.usage = addUsage(t.usage, usage);
      this.spend(c.role, usage);
    }
    this.recordCalls(calls);
  }

  /**
   * Books a failed ticket child from every call it made (workflows/failures.ts ticketFailure):
   * what it did not report while running is charged to its role and the Boss, and its reports
   * are settled, so a retry of the ticket starts from nothing.
   */
  chargeFailedTicket(t: TicketView, calls: readonly LlmCallRecord[]): void {
    const reported = this.settleReports(t.id);
    const ofKind = (review: boolean) =>
      calls
        .filter((c) => (c.kind === 'review') === review)
        .reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
    const work = subtractUsage(ofKind(false), reported.work);
    const review = subtractUsage(ofKind(true), reported.review);
    t.usage = addUsage(t.usage, addUsage(work, review));
    this.recordCalls(calls);
    this.spend(t.role, work);
    this.spend(BOSS_ROLE, review);
  }

  /** Books calls a child reported while it is still running (budgeted runs). */
  spendReported(t: TicketView, kind: 'work' | 'review', usage: Usage): void {
    const r = this.reported.get(t.id) ?? nothingReported();
    r[kind] = addUsage(r[kind], usage);
    this.reported.set(t.id, r);
    t.usage = addUsage(t.usage, usage);
    this.spend(kind === 'work' ? t.role : BOSS_ROLE, usage);
  }

  /**
   * Books what an epic's running sub-run reports it spent so far, by role (cumulative): only what
   * is new since its last report, so the run's cost covers the tree while the epic runs.
   */
  spendReportedByRole(t: TicketView, spentByRole: Record<string, Usage>): void {
    const r = this.reported.get(t.id) ?? nothingReported();
    const byRole = (r.byRole ??= {});
    for (const [role, total] of Object.entries(spentByRole)) {
      const before = byRole[role] ?? emptyUsage();
      const delta = subtractUsage(total, before);
      if (!hasUsage(delta)) continue;
      byRole[role] = addUsage(before, delta);
      r.work = addUsage(r.work, delta);
      t.usage = addUsage(t.usage, delta);
      this.spend(role, delta);
    }
    this.reported.set(t.id, r);
  }

  /** Books a finished child's spending from its outcome, less what it reported while running. */
  settle(t: TicketView, outcome: TicketOutcome): void {
    this.recordCalls(outcome.calls);
    const reported = this.settleReports(t.id);
    const work = subtractUsage(outcome.workUsage, reported.work);
    const review = subtractUsage(outcome.reviewUsage, reported.review);
    t.usage = addUsage(t.usage, addUsage(work, review));
    if (outcome.usageByRole) {
      // An epic: its sub-run's spending rolls up role by role, so the run's cost shows the whole
      // tree; what the sub-run already reported while it ran was booked then.
      for (const [role, usage] of Object.entries(outcome.usageByRole))
        this.spend(role, subtractUsage(usage, reported.byRole?.[role] ?? emptyUsage()));
      return;
    }
    this.spend(t.role, work);
    this.spend(BOSS_ROLE, review);
  }

  /** What a child reported while running, forgotten now that its end settles it. */
  private settleReports(ticketId: string): ReportedSpend {
    const reported = this.reported.get(ticketId) ?? nothingReported();
    this.reported.delete(ticketId);
    return reported;
  }
}
