/**
 * Spending control inside a ticket child: its own budget (escalate before a call once it is
 * used up) and, in a budgeted run, the run's permits (see budget.ts): before each LLM activity
 * the child asks for the calls the activity may make, passes the grant to the activity, and
 * reports what the activity cost when it ends. When the grant runs out before the activity is
 * done (near the cap, or after retries and repairs), the activity stops before its next call;
 * the child reports, asks again and resumes with the retry attempts that are left.
 *
 * Since TICKET_GRANT_PATCH a batch asked for before the work covers the review too, and calls a
 * batch leaves over carry to the next activity (a revision's as well): the child reports a
 * batch only when it is used up and it asks for the next one. A ticket that stays within its
 * first grant (given at its start) sends no signal at all; the run books its spending from its
 * outcome and frees its permits when it ends (RunState.settleSpending, BudgetController.released).
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import { FailureType } from '../shared/errors';
import { spendGrantSignal, spendReportSignal, spendRequestSignal } from '../shared/messages';
import { spendGrantSchema } from '../shared/permit-grant';
import type { LlmCallRecord, TicketInput } from '../shared/types';
import { addUsage, emptyUsage, hasUsage, totalTokens, usageOfRecord, type Usage } from '../shared/usage';
import { attemptPermitsWanted, isPermitsUsedUp, permitsWanted } from './permit-calls';
import { failedCalls, rootCause } from './failures';
import { AGENT_PERMITS_PATCH, CANCEL_REPORT_PATCH, PIPELINED_PERMITS_PATCH, TICKET_GRANT_PATCH } from './patches';
import { onSignal } from './message-handlers';

/** What an LLM activity returns that spending control reads. */
interface Spent {
  usage: Usage;
  calls?: LlmCallRecord[];
}

/** How a permitted activity is started: its call allowance and, when resuming, the retries left. */
export interface PermitOptions {
  /** HTTP calls the activity may make (absent: no limit, the run has no budget). */
  callPermits?: number;
  /** The retry policy with the attempts that are left, when resuming after a used-up grant. */
  retry?: RetryPolicy;
}

/** The permit batch in hand: calls it has left and what its calls cost, not reported yet. */
interface HeldBatch {
  seq: number;
  /** Calls left (undefined: the grant covers one whole activity, runs before per-call permits). */
  left: number | undefined;
  work: Usage;
  review: Usage;
}

/** What a child reports of one batch. */
interface ReportOf {
  kind: 'work' | 'review';
  usage: Usage;
  seq: number;
  reviewUsage?: Usage;
}

/** Tracks and gates one child's LLM spending. */
export class TicketSpending {
  private spent: Usage = emptyUsage();
  /** Grants received, by batch number: calls granted (undefined: the whole activity). */
  private readonly grants = new Map<number, number | undefined>();
  /** Each grant's nonce, by batch number: its report echoes it (report-checks.ts). */
  private readonly nonces = new Map<number, string>();
  private requested = 0;
  /** Signals to the run are not awaited one by one (false while replaying older histories). */
  private readonly pipelined: boolean = false;
  /** Batches cover work and review and leftovers carry over (false while replaying older histories). */
  private readonly carry: boolean = false;
  private held?: HeldBatch;
  /** Every call booked so far, also of executions that stopped at their grant (see callsMade). */
  private readonly made: LlmCallRecord[] = [];

  constructor(private readonly input: TicketInput) {
    if (input.budgetPermits) {
      this.pipelined = patched(PIPELINED_PERMITS_PATCH);
      this.carry = this.pipelined && patched(TICKET_GRANT_PATCH);
      // Batch 1 granted at the start: the first activity goes without asking.
      if (input.firstGrant) this.granted(1, input.firstGrant);
      // The grant schema is built when the first grant arrives (see shared/permit-grant.ts).
      onSignal(spendGrantSignal, spendGrantSchema, (grant) => {
        // Only the batch this child waits for: a forged grant for a later one must not
        // pre-approve calls the run has not allowed.
        if (grant.seq !== this.requested) {
          log.warn('ignored a budget grant that does not answer the pending request', { grant });
          return;
        }
        this.granted(grant.seq, grant);
      });
    }
  }

  private granted(seq: number, grant: { calls?: number | undefined; nonce?: string | undefined }): void {
    if (grant.nonce !== undefined) this.nonces.set(seq, grant.nonce);
    this.grants.set(seq, grant.calls);
  }

  /** Every LLM call this ticket's activities made and booked so far. */
  callsMade(): readonly LlmCallRecord[] {
    return this.made;
  }

  /** Whether this ticket's own budget is used up. */
  exhausted(): boolean {
    const b = this.input.budget;
    if (!b) return false;
    return (
      (b.usd !== undefined && this.spent.usd >= b.usd) ||
      (b.tokens !== undefined && totalTokens(this.spent) >= b.tokens)
    );
  }

  /**
   * Runs one LLM activity under the run's permits and books what it cost (every call, also of
   * executions that stopped at their grant). `policy` is the activity's retry policy; `start`
   * starts the activity with the options given; `calls` overrides the calls asked for.
   */
  async run<T extends Spent>(
    kind: 'work' | 'review',
    policy: RetryPolicy,
    start: (opts: PermitOptions) => Promise<T>,
    /** Calls to ask for (default: the policy's attempts times a call and a repair; a CLI asks for its maxCalls). */
    calls?: number,
  ): Promise<T> {
    const maxAttempts = policy.maximumAttempts ?? 0; // 0: unlimited
    const want = this.wanted(kind, calls ?? permitsWanted(policy));
    const earlier: LlmCallRecord[] = [];
    let attemptsUsed = 0;
    for (;;) {
      const seq = await this.permit(want);
      // A repair cut off in the last attempt still gets one fresh attempt.
      const left = maxAttempts > 0 ? Math.max(1, maxAttempts - attemptsUsed) : 0;
      const callPermits = this.callPermits(seq);
      const opts: PermitOptions = {
        ...(callPermits !== undefined ? { callPermits } : {}),
        ...(attemptsUsed > 0 ? { retry: { ...policy, maximumAttempts: left } } : {}),
      };
      let res: T;
      try {
        res = await start(opts);
      } catch (err) {
        const cause = rootCause(err);
        if (isCancellation(err)) {
          // An activity that answered its cancellation with its calls (an executor attempt): they
          // go into the batch in hand, which reportOnCancel tells the run about.
          this.bookCancelled(kind, failedCalls(cause), seq);
          throw err;
        }
        if (!isPermitsUsedUp(cause)) throw err;
        // The grant ran out before the activity was done: book its calls, then ask again.
        // Every execution makes at least one call (a grant is at least one), so this terminates.
        const calls = failedCalls(cause);
        attemptsUsed += Math.max(1, ...calls.map((c) => c.attempt));
        if (maxAttempts > 0 && attemptsUsed > maxAttempts) throw err; // the run books its calls
        earlier.push(...calls);
        this.made.push(...calls);
        const usage = calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
        await this.spend(kind, usage, seq, Infinity);
        continue;
      }
      this.made.push(...(res.calls ?? []));
      await this.spend(kind, res.usage, seq, res.calls?.length ?? Infinity);
      if (earlier.length === 0) return res;
      return {
        ...res,
        usage: earlier.reduce((u, c) => addUsage(u, usageOfRecord(c)), res.usage),
        calls: [...earlier, ...(res.calls ?? [])],
      };
    }
  }

  /** Books the calls of an activity that was cancelled (absent from its failure: none). */
  private bookCancelled(kind: 'work' | 'review', calls: readonly LlmCallRecord[], seq: number | undefined): void {
    const fresh = calls.filter((c) => !this.made.includes(c));
    if (fresh.length === 0) return;
    this.made.push(...fresh);
    const usage = fresh.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
    this.spent = addUsage(this.spent, usage);
    if (seq === undefined || !this.carry || !this.held) return;
    this.held[kind] = addUsage(this.held[kind], usage);
    this.held.left = this.held.left === undefined ? 0 : Math.max(0, this.held.left - fresh.length);
  }

  /**
   * Runs an agent attempt (many turns in a child workflow) under the run's permits. Since
   * AGENT_PERMITS_PATCH every turn's HTTP call is metered: the attempt asks for `maxCalls` (its
   * turns), gets what fits under the cap, and the loop makes no call beyond it; used up, the loop
   * pauses, the batch is reported and the loop resumes under the next grant. So agent calls keep
   * the cap's promise like every other call (README: budgets and agents). Runs recorded before
   * took one permit for the whole attempt.
   */
  async runAttempt<T extends Spent & { paused?: { calls: LlmCallRecord[] } }>(
    kind: 'work' | 'review',
    maxCalls: number,
    start: (opts: { callPermits?: number; state?: NonNullable<T['paused']> }) => Promise<T>,
  ): Promise<T> {
    if (!this.carry || !patched(AGENT_PERMITS_PATCH)) {
      const seq = await this.permit(this.wanted(kind, 1));
      const res = await start({});
      this.made.push(...(res.calls ?? []));
      await this.spend(kind, res.usage, seq, 1);
      return res;
    }
    let state: NonNullable<T['paused']> | undefined;
    for (;;) {
      const seq = await this.permit(this.wanted(kind, maxCalls));
      const callPermits = this.callPermits(seq);
      const res = await start({ ...(callPermits !== undefined ? { callPermits } : {}), ...(state ? { state } : {}) });
      // The loop's records are cumulative over its executions: book the new ones.
      const fresh = (res.calls ?? []).slice(state?.calls.length ?? 0);
      this.made.push(...fresh);
      const usage = fresh.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage());
      await this.spend(kind, usage, seq, fresh.length);
      if (!res.paused) return res;
      if (fresh.length === 0)
        throw ApplicationFailure.create({
          type: FailureType.BadInput,
          message: 'the agent loop paused for permits without making a call; this is a bug, please report it',
          nonRetryable: true,
        });
      state = res.paused;
    }
  }

  /** Calls to ask for before an activity: before the work, its review's too (when batches carry). */
  private wanted(kind: 'work' | 'review', calls: number): number {
    return this.carry && kind === 'work' ? attemptPermitsWanted(calls) : calls;
  }

  /** The call allowance of an activity under batch `seq` (undefined: no limit). */
  private callPermits(seq: number | undefined): number | undefined {
    if (seq === undefined) return undefined;
    return this.carry ? this.held?.left : this.grants.get(seq);
  }

  /**
   * Waits for a permit batch of `want` calls; its number (undefined: no budget). When batches
   * carry, the batch in hand serves while it has calls left; a used-up one is reported first.
   */
  private async permit(want: number): Promise<number | undefined> {
    if (!this.input.budgetPermits) return undefined;
    if (this.carry && this.held) {
      if ((this.held.left ?? 0) > 0) return this.held.seq;
      this.reportHeld();
    }
    const seq = ++this.requested;
    if (!this.grants.has(seq)) await this.ask(seq, want); // else granted at the start (input.firstGrant)
    if (this.carry) this.held = { seq, left: this.grants.get(seq), work: emptyUsage(), review: emptyUsage() };
    return seq;
  }

  /** Asks the run for batch `seq` and waits for its grant. */
  private async ask(seq: number, want: number): Promise<void> {
    const sent = this.parent().signal(spendRequestSignal, { ticketId: this.input.ticket.id, seq, calls: want });
    if (!this.pipelined) {
      await sent;
      await condition(() => this.grants.has(seq));
      return;
    }
    // The grant can only follow the request's delivery, so waiting for the grant is enough; a
    // request that cannot be delivered (the run is gone) still fails the child.
    let undelivered: unknown;
    sent.catch((err: unknown) => (undelivered = err ?? new Error('the permit request was not delivered')));
    await condition(() => this.grants.has(seq) || undelivered !== undefined);
    if (!this.grants.has(seq)) throw undelivered;
  }

  /**
   * Books an activity's spending that used `calls` calls of batch `seq` (Infinity: all it had).
   * Before batches carried, every activity reported at once; now the batch in hand keeps it.
   */
  private async spend(kind: 'work' | 'review', usage: Usage, seq: number | undefined, calls: number): Promise<void> {
    this.spent = addUsage(this.spent, usage);
    if (seq === undefined) return;
    const held = this.held;
    if (!this.carry || !held) return this.report({ kind, usage, seq });
    held[kind] = addUsage(held[kind], usage);
    held.left = held.left === undefined ? 0 : Math.max(0, held.left - calls);
  }

  /**
   * The ticket is being cancelled (its run was): tells the run what the calls of the batch in hand
   * cost, delivered before the child ends, so a cancelled run's bill has every call that was
   * answered (the run books a cancelled child from nothing else). Histories recorded before it
   * reported nothing.
   */
  async reportOnCancel(): Promise<void> {
    const held = this.held;
    if (!this.carry || !held || (!hasUsage(held.work) && !hasUsage(held.review))) return;
    if (!patched(CANCEL_REPORT_PATCH)) return;
    await CancellationScope.nonCancellable(() => this.sendReport(this.closeHeld()).catch(() => undefined));
  }

  /** Closes the used-up batch in hand: tells the run what its calls cost, by kind. */
  private reportHeld(): void {
    void this.report(this.closeHeld());
  }

  /** The report of the batch in hand, which is closed. */
  private closeHeld(): ReportOf {
    const { seq, work, review } = this.held!;
    this.held = undefined;
    const reviewed = hasUsage(review);
    return hasUsage(work) || !reviewed
      ? { kind: 'work', usage: work, seq, ...(reviewed ? { reviewUsage: review } : {}) }
      : { kind: 'review', usage: review, seq };
  }

  /** Tells the run what the calls of a batch cost (echoing the grant's nonce). */
  private sendReport(what: ReportOf): Promise<void> {
    const nonce = this.nonces.get(what.seq);
    this.nonces.delete(what.seq);
    return this.parent().signal(spendReportSignal, {
      ticketId: this.input.ticket.id,
      ...what,
      ...(nonce !== undefined ? { nonce } : {}),
    });
  }

  /** Tells the run what the calls of a batch cost. */
  private async report(what: ReportOf): Promise<void> {
    const sent = this.sendReport(what);
    // Pipelined: the next request leaves in the same workflow task. The two may arrive in either
    // order; a request before its report only finds the run more careful (the batch still counts
    // as open). A child's last report may never arrive (signals of a closed workflow are dropped):
    // the run books a finished child's spending from its outcome, less what was reported
    // (RunState.settleSpending), and frees its permits then (SchedulerContext.released).
    if (this.pipelined) sent.catch(() => undefined);
    else await sent;
  }

  private parent() {
    const parent = workflowInfo().parent;
    if (!parent) {
      throw ApplicationFailure.create({
        type: FailureType.BadInput,
        message: 'budget permits need a parent run: start ticketWorkflow with budgetPermits only from a run',
        nonRetryable: true,
      });
    }
    return getExternalWorkflowHandle(parent.workflowId, parent.runId);
  }
}
