/**
 * One budget for a run's whole tree. An epic's sub-run of a budgeted run has no cap of its own:
 * it draws every LLM call from its parent's permits, exactly as a ticket child does. Each permit
 * request of one of its own children (and of its own Boss, before planning and the final report)
 * goes up to the parent as a request of the epic's ticket; the parent's BudgetController grants
 * it under the one cap, and the grant comes back down to the child. When a child's activity
 * reports, the sub-run reports up its whole spending so far by role (cumulative, so the parent
 * books only what is new and a lost report loses nothing). So the tree passes the top cap by at
 * most one call, as a flat run does, the person decides at the top run's budget gate, and a raise
 * there makes room at every level.
 *
 * Payloads are parsed like the parent's (shared/permits.ts); what does not fit or does not answer
 * an open request is audited and ignored. Nothing here throws.
 */
import { ApplicationFailure, condition, getExternalWorkflowHandle, type SignalDefinition } from '@temporalio/workflow';
import { z } from 'zod';
import { FailureType } from '../shared/errors';
import { epicStopSignal, spendGrantSignal, spendReportSignal, spendRequestSignal } from '../shared/messages';
import { SpendGrant, SpendReport, SpendRequest } from '../shared/permits';
import type { Ticket } from '../shared/schemas';
import type { EpicContext } from '../shared/types';
import { auditIgnoredSignal, BOSS_CALLS, bookReport } from './budget';
import { cappedReport, reportProblem } from './report-checks';
import { zodProblem } from './gate-payloads';
import { runAudit } from './handlers';
import { onSignal } from './message-handlers';
import type { RunState } from './run-state';

/** What the orchestrator, its handlers and its scheduler use of a run's permit source. */
export interface RunPermits {
  request(raw: unknown): void;
  report(raw: unknown): void;
  firstGrant(ticket: Ticket): { firstGrant?: { calls: number } };
  allowance(want: number): number | undefined;
  waiting(): boolean;
  forget(ticketId: string): void;
  released(): void;
  stop(): void;
  pump(): void;
  /** Resolves once the signals this source sent are delivered (before the run continues as new). */
  drain?(): Promise<void>;
}

/** Upstream permit numbers of one execution of a sub-run start at generation × this (continue-as-new). */
const SEQ_PER_GENERATION = 1_000_000_000;

/** A request sent up: for a child's batch, or for the sub-run's own Boss (no ticket). */
interface Upstream {
  ticketId?: string;
  /** The child's own batch number (its grant goes down with it). */
  childSeq: number;
  /** The child ended before the grant came: hand the grant back at once. */
  orphan?: boolean;
  /** Calls the parent granted (once granted). */
  calls?: number;
}

/** The permit source of a sub-run whose budget is its parent's (see the file comment). */
export class UpstreamBudget implements RunPermits {
  private upSeq: number;
  /** Requests sent up, not granted yet, by upstream number. */
  private readonly asked = new Map<number, Upstream>();
  /** Granted upstream batches not reported yet, by upstream number. */
  private readonly open = new Map<number, Upstream>();
  private readonly lastSeq = new Map<string, number>();
  /** Upstream batches of children that ended: closed once their spending is settled. */
  private readonly toClose: number[] = [];
  private boss?: { seq: number; calls?: number };
  private stopped = false;
  /** Signals to the parent not delivered yet. */
  private sending = 0;
  /** The parent's nonce of each granted upstream batch: the sub-run's report of it echoes it. */
  private readonly nonces = new Map<number, string>();

  constructor(
    private readonly state: RunState,
    private readonly epic: EpicContext,
    private readonly childIdOf: (ticketId: string) => string,
    generation: number,
  ) {
    this.upSeq = generation * SEQ_PER_GENERATION;
    onSignal(spendGrantSignal, SpendGrant, (grant) => this.granted(grant), runAudit(state));
    // The stop carries nothing: a payload means it was not sent by the parent.
    onSignal(epicStopSignal, z.undefined(), () => this.stopFromParent(), runAudit(state));
    state.bossPermit = () => this.bossPermit();
    state.bossSettled = () => this.bossSettled();
  }

  /** A child of the sub-run asks for a permit batch: the request goes up to the parent. */
  request(raw: unknown): void {
    const parsed = SpendRequest.safeParse(raw);
    if (!parsed.success) return this.ignore('spendRequest', `invalid payload: ${zodProblem(parsed.error)}`);
    const { ticketId, seq, calls } = parsed.data;
    if (!this.state.hasTicket(ticketId)) return this.ignore('spendRequest', `unknown ticket ${ticketId}`, ticketId);
    if (seq <= (this.lastSeq.get(ticketId) ?? 0))
      return this.ignore('spendRequest', `permit ${seq} of ${ticketId} was already asked for`, ticketId);
    this.lastSeq.set(ticketId, seq);
    this.askUp({ ticketId, childSeq: seq }, calls ?? 1);
  }

  /** A child's activity ended: book it here, then tell the parent the sub-run's spending so far. */
  report(raw: unknown): void {
    const parsed = SpendReport.safeParse(raw);
    if (!parsed.success) return this.ignore('spendReport', `invalid payload: ${zodProblem(parsed.error)}`);
    const { ticketId, seq } = parsed.data;
    const up = [...this.open].find(([, u]) => u.ticketId === ticketId && (seq === undefined || u.childSeq === seq));
    if (!this.state.hasTicket(ticketId) || !up)
      return this.ignore(
        'spendReport',
        `${ticketId} holds no granted permit${seq ? ` ${seq}` : ''} to report on`,
        ticketId,
      );
    // The child echoes the parent's nonce, passed down with the grant (report-checks.ts).
    const grant = { seq: up[1].childSeq, calls: up[1].calls ?? 1, ...this.nonceOf(up[0]) };
    const invalid = reportProblem(grant, parsed.data);
    if (invalid) return this.ignore('spendReport', invalid, ticketId);
    this.open.delete(up[0]);
    const { usage, reviewUsage, capped } = cappedReport(grant, parsed.data, this.state.ledger.dearestCall);
    if (capped) auditIgnoredSignal(this.state, { signal: 'spendReport', error: capped, ticketId }, 'capped');
    bookReport(this.state, { ...parsed.data, usage, reviewUsage });
    this.reportUp(up[0]);
  }

  /** Children ask for every batch (a first grant would spend the parent's room before it is asked). */
  firstGrant(): { firstGrant?: { calls: number } } {
    return {};
  }

  /** Calls the sub-run's current Boss activity may make: what the parent granted for it. */
  allowance(): number | undefined {
    return this.boss?.calls ?? 1;
  }

  /** Whether a request of this sub-run waits for the parent. */
  waiting(): boolean {
    return this.asked.size > 0;
  }

  /** A child ended: what it asked for and was not granted goes back; what it held closes on settling. */
  forget(ticketId: string): void {
    this.lastSeq.delete(ticketId);
    for (const u of this.asked.values()) if (u.ticketId === ticketId) u.orphan = true;
    for (const [seq, u] of this.open) {
      if (u.ticketId !== ticketId) continue;
      this.open.delete(seq);
      this.toClose.push(seq);
    }
  }

  /** A child's spending is settled: close its upstream batches with the sub-run's spending so far. */
  released(): void {
    for (const seq of this.toClose.splice(0)) this.reportUp(seq);
  }

  /** The sub-run stops spending (nothing more is asked for). */
  stop(): void {
    this.stopped = true;
  }

  /** Grants come from the parent: nothing to do here. */
  pump(): void {}

  /**
   * Waits until every signal to the parent is delivered: a report sent in the last moments of an
   * execution that continues as new must still close its batch in the parent, or the parent would
   * count its calls as open for as long as the epic runs.
   */
  async drain(): Promise<void> {
    await condition(() => this.sending === 0);
  }

  /** Waits for the parent's permit for the sub-run's own Boss activity (plan, final report). */
  private async bossPermit(): Promise<void> {
    const seq = this.askUp({ childSeq: 0 }, BOSS_CALLS);
    this.boss = { seq };
    await condition(() => this.stopped || (this.boss?.seq === seq && this.boss.calls !== undefined));
    if (this.boss?.calls === undefined) {
      throw ApplicationFailure.create({
        type: FailureType.BudgetStopped,
        message: `run ${this.epic.parentRunId} was stopped at its budget gate, so this sub-run's Boss makes no more calls`,
        nonRetryable: true,
      });
    }
  }

  /** The parent was stopped at its budget gate: stop spending, end `stopped` with what is done. */
  private stopFromParent(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.state.spendingStopped = true;
    this.state.book.log({
      by: 'maestro',
      action: 'budget-stopped',
      comment: `run ${this.epic.parentRunId} was stopped at its budget gate`,
    });
    this.state.version++;
  }

  /** The Boss activity was booked: close its batch with the sub-run's spending so far. */
  private bossSettled(): void {
    if (!this.boss) return;
    const { seq, calls } = this.boss;
    this.boss = undefined;
    const asked = this.asked.get(seq);
    if (asked)
      asked.orphan = true; // never granted: hand it back when it comes
    else if (calls !== undefined) this.reportUp(seq);
  }

  private askUp(u: Upstream, calls: number): number {
    const seq = ++this.upSeq;
    if (this.stopped) return seq;
    this.asked.set(seq, u);
    this.toParent(spendRequestSignal, { ticketId: this.epic.ticketId, seq, calls }, () => this.asked.delete(seq));
    return seq;
  }

  /** The parent granted upstream batch `seq`: pass it down to whoever asked. */
  private granted(raw: unknown): void {
    const parsed = SpendGrant.safeParse(raw);
    if (!parsed.success) return this.ignore('spendGrant', `invalid payload: ${zodProblem(parsed.error)}`);
    const { seq, calls, nonce } = parsed.data;
    if (nonce !== undefined) this.nonces.set(seq, nonce);
    const u = this.asked.get(seq);
    if (!u) {
      // E.g. a request of this sub-run's previous execution (it continued as new): hand it back,
      // so the parent does not count its calls as open (a forged number is refused there).
      this.reportUp(seq);
      return this.ignore('spendGrant', `grant ${seq} answers no request of this sub-run`);
    }
    this.asked.delete(seq);
    if (u.orphan) return this.reportUp(seq); // nobody needs it any more: hand it back
    if (u.ticketId === undefined) {
      if (this.boss?.seq === seq) this.boss.calls = calls ?? 1;
      this.state.version++;
      return;
    }
    u.calls = calls ?? 1;
    this.open.set(seq, u);
    void getExternalWorkflowHandle(this.childIdOf(u.ticketId))
      .signal(spendGrantSignal, { seq: u.childSeq, ...(calls !== undefined ? { calls } : {}), ...this.nonceOf(seq) })
      .catch(() => undefined); // the child already ended: forget() closes the batch
  }

  /** Closes upstream batch `seq`, telling the parent the sub-run's whole spending so far. */
  private reportUp(seq: number): void {
    const cost = this.state.cost();
    const nonce = this.nonceOf(seq);
    this.nonces.delete(seq);
    const report = {
      ticketId: this.epic.ticketId,
      kind: 'work' as const,
      usage: cost.usage,
      seq,
      spentByRole: cost.byRole,
      ...nonce,
    };
    this.toParent(spendReportSignal, report, () => undefined);
  }

  /** Signals the parent (not awaited, but counted until delivered); `gone` runs when it is gone. */
  private toParent<T>(signal: SignalDefinition<[T]>, payload: T, gone: () => void): void {
    this.sending++;
    void getExternalWorkflowHandle(this.epic.parentRunId)
      .signal(signal, payload)
      .catch(gone)
      .finally(() => this.sending--);
  }

  /** The parent's nonce of upstream batch `seq`, as a payload field. */
  private nonceOf(seq: number): { nonce?: string } {
    const nonce = this.nonces.get(seq);
    return nonce !== undefined ? { nonce } : {};
  }

  private ignore(signal: string, error: string, ticketId?: string): void {
    auditIgnoredSignal(this.state, { signal, error, ticketId });
  }
}
