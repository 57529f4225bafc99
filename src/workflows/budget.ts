/**
 * Permits for LLM calls of a budgeted run; one permit is one HTTP call to a model. A child asks
 * for the calls its next activity may make; the run grants as many as fit under the cap, each
 * counted as expensive as the dearest call so far (spent + open permits × dearest < cap), and
 * one when no permit is open and the cap is not yet reached. The activity makes no call beyond
 * its grant (see activities/permits.ts), so spending passes the cap by at most one call, also
 * when calls are retried after 429s and 5xx or repaired.
 *
 * Payloads are parsed (shared/permits.ts); what does not fit, or does not answer an open request
 * or grant, is audited and ignored. Nothing here throws.
 */
import { getExternalWorkflowHandle, patched, uuid4 } from '@temporalio/workflow';
import type { Ticket } from '../shared/schemas';
import { isAgent } from '../shared/tool-checks';
import { spendGrantSignal } from '../shared/messages';
import { SpendReport, SpendRequest, type SpentByRole } from '../shared/permits';
import { roleRetryPolicy } from './activity-options';
import { isEpic } from '../shared/epics';
import { zodProblem } from './gate-payloads';
import type { RunState } from './run-state';
import { agentPermitsWanted, attemptPermitsWanted, permitsWanted } from './permit-calls';
import { AGENT_PERMITS_PATCH, GRANT_NONCE_PATCH, NEXT_BATCH_PATCH, TICKET_GRANT_PATCH } from './patches';
import { cappedReport, reportProblem } from './report-checks';

// In permit-calls.ts (what a ticket child needs without this module); exported here as before.
export { callPermitsField, isPermitsUsedUp, permitsWanted } from './permit-calls';

interface Batch {
  ticketId: string;
  childId: string;
  seq: number;
  /** Calls asked for (1 for children recorded before per-call permits). */
  want: number;
  /** Calls granted; 0 while queued. */
  calls: number;
  /** What the batch's report must echo (report-checks.ts); absent in runs recorded before nonces. */
  nonce?: string;
}

/** Patch id: a child's first permit batch travels in its input (runs recorded before asked for it). */
const FIRST_GRANT_PATCH = 'maestro-first-grant';

/** Patch id: a child's end grants waiting permits (runs recorded before granted only on reports). */
const RELEASE_PATCH = 'maestro-grant-on-child-end';

/** Calls a Boss activity of the run may need: five attempts of a call and a repair. */
export const BOSS_CALLS = 10;

/** Grants and books LLM-call permits of one run. */
export class BudgetController {
  private readonly queue: Batch[] = [];
  /** Granted batches whose activity has not reported yet, per ticket. */
  private readonly open = new Map<string, Batch[]>();
  private readonly lastSeq = new Map<string, number>();
  /** Batch numbers an epic's sub-run asked for (see askedBefore). */
  private readonly epicSeqs = new Map<string, Set<number>>();
  /** Calls granted to each epic with nonces (its cumulative reports may list no more). */
  private readonly epicGranted = new Map<string, number>();
  private stopped = false;

  /**
   * `perCall` is false for runs recorded before per-call permits: a grant then covers one
   * activity, an unknown dearest call counts as free, and grants go out as they did then.
   */
  constructor(
    private readonly state: RunState,
    private readonly childIdOf: (ticketId: string) => string,
    private readonly perCall: boolean,
  ) {}

  /** A child asked for a permit batch (raw signal payload). */
  request(raw: unknown): void {
    const parsed = SpendRequest.safeParse(raw);
    if (!parsed.success) return this.ignore('spendRequest', `invalid payload: ${zodProblem(parsed.error)}`);
    const { ticketId, seq, calls } = parsed.data;
    const problem = this.unknownTicket(ticketId);
    if (problem) return this.ignore('spendRequest', problem, ticketId);
    const skipped = this.skipsAhead(ticketId, seq);
    if (skipped) return this.ignore('spendRequest', skipped, ticketId);
    if (this.askedBefore(ticketId, seq)) {
      // The child's own request after a forged one for its batch: the forged grant did not
      // answer a request of the child, so it was ignored there; it gets the grant now.
      if (this.regrant(ticketId, seq)) return;
      return this.ignore('spendRequest', `permit ${seq} of ${ticketId} was already asked for`, ticketId);
    }
    const want = this.perCall ? (calls ?? 1) : 1; // before per-call permits, a grant was one activity
    this.queue.push({ ticketId, childId: this.childIdOf(ticketId), seq, want, calls: 0 });
    this.pump();
  }

  /**
   * The `firstGrant` field of a child about to start: permit batch 1 for its first LLM activity,
   * granted now so that activity needs no request round trip. As a request would get it, only
   * when no other child waits (first come, first served), and never in runs recorded before it.
   * Empty: the child asks as usual.
   */
  firstGrant(ticket: Ticket): { firstGrant?: { calls: number } } {
    if (!this.perCall || this.queue.length > 0 || !this.state.budget || !patched(FIRST_GRANT_PATCH)) return {};
    const role = this.state.input.roles.find((r) => r.name === ticket.role);
    // An agent attempt asks for a call per turn (one permit for all, before AGENT_PERMITS_PATCH);
    // a call asks for its retries.
    const work = isAgent(role?.agent)
      ? patched(AGENT_PERMITS_PATCH)
        ? agentPermitsWanted(role.agent.maxTurns)
        : 1
      : permitsWanted(roleRetryPolicy(role));
    // Since TICKET_GRANT_PATCH the batch covers the review too, as the child asks (ticket-spending.ts).
    const want = patched(TICKET_GRANT_PATCH) ? attemptPermitsWanted(work) : work;
    const calls = this.grantable(want);
    if (calls === 0) return {};
    const nonce = this.nonce();
    const batch: Batch = { ticketId: ticket.id, childId: this.childIdOf(ticket.id), seq: 1, want, calls, ...nonce };
    this.open.set(ticket.id, [...(this.open.get(ticket.id) ?? []), batch]);
    this.lastSeq.set(ticket.id, 1);
    return { firstGrant: { calls, ...nonce } };
  }

  /**
   * A child's activity ended: book what its calls cost and free the rest of its grant. A report
   * must answer an open grant, echo its nonce and stay within it (report-checks.ts); a settled
   * grant takes no second report.
   */
  report(raw: unknown): void {
    const parsed = SpendReport.safeParse(raw);
    if (!parsed.success) return this.ignore('spendReport', `invalid payload: ${zodProblem(parsed.error)}`);
    const { ticketId, kind, seq, spentByRole } = parsed.data;
    const problem =
      this.unknownTicket(ticketId) ??
      (spentByRole && !isEpic({ role: this.state.roleOf(ticketId) ?? '' }) ? `${ticketId} is no epic` : undefined);
    if (problem) return this.ignore('spendReport', problem, ticketId);
    const batches = this.open.get(ticketId) ?? [];
    const i = seq === undefined ? 0 : batches.findIndex((b) => b.seq === seq);
    if (!batches[i])
      return this.ignore(
        'spendReport',
        `${ticketId} holds no granted permit${seq ? ` ${seq}` : ''} to report on`,
        ticketId,
      );
    const batch = batches[i];
    const invalid =
      reportProblem(batch, parsed.data) ?? (spentByRole ? this.epicProblem(ticketId, spentByRole) : undefined);
    if (invalid) return this.ignore('spendReport', invalid, ticketId);
    batches.splice(i, 1);
    if (spentByRole) this.state.ledger.spendReportedByRole(this.state.ticketView(ticketId), spentByRole);
    else {
      const { usage, reviewUsage, capped } = cappedReport(batch, parsed.data, this.state.ledger.dearestCall);
      if (capped) auditIgnoredSignal(this.state, { signal: 'spendReport', error: capped, ticketId }, 'capped');
      bookReport(this.state, { ticketId, kind, usage, reviewUsage });
    }
    this.pump();
  }

  /**
   * Calls the run's own next Boss activity (plan, final report) may make: as many as fit under the
   * cap, at least one (the caller checked the cap first); undefined without per-call permits.
   */
  allowance(want: number): number | undefined {
    if (!this.perCall || !this.state.budget) return undefined;
    return Math.max(1, this.grantable(want));
  }

  /** Whether some child waits for a permit. */
  waiting(): boolean {
    return this.queue.length > 0;
  }

  /** A child ended: forget its requests and permits. */
  forget(ticketId: string): void {
    this.open.delete(ticketId);
    this.lastSeq.delete(ticketId);
    this.epicSeqs.delete(ticketId);
    this.epicGranted.delete(ticketId);
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.ticketId === ticketId) this.queue.splice(i, 1);
  }

  /**
   * A child ended and its spending is booked: its permits are free, so grant what waits. Its
   * last report can be lost (a closed child's signals are dropped), so this cannot wait for it.
   * Runs recorded before it granted only on reports.
   */
  released(): void {
    if (this.queue.length > 0 && patched(RELEASE_PATCH)) this.pump();
  }

  /** No more permits, ever (a person ended the run at the budget gate). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Grants queued permits while the cap allows; call after anything that changes spending. */
  pump(): void {
    let granted = false;
    for (let b = this.queue[0]; b; b = this.queue[0]) {
      const calls = this.grantable(b.want);
      if (calls === 0) break;
      granted = true;
      this.queue.shift();
      b.calls = calls;
      Object.assign(b, this.nonce());
      const open = this.open.get(b.ticketId) ?? [];
      open.push(b);
      this.open.set(b.ticketId, open);
      if (isEpic({ role: this.state.roleOf(b.ticketId) ?? '' }))
        this.epicGranted.set(b.ticketId, (this.epicGranted.get(b.ticketId) ?? 0) + calls);
      getExternalWorkflowHandle(b.childId)
        .signal(
          spendGrantSignal,
          this.perCall ? { seq: b.seq, calls, ...(b.nonce ? { nonce: b.nonce } : {}) } : { seq: b.seq },
        )
        .catch(() => this.forget(b.ticketId)); // the child already ended
    }
    // A waiting child changes what the scheduler decides (a budget gate may be due) even when
    // nothing was granted; a grant changes nothing the scheduler reads.
    if (!granted) this.state.version++;
  }

  /** Calls that may be granted now to a request for `want`: 0 to make it wait. */
  private grantable(want: number): number {
    if (this.stopped || this.state.overBudget()) return 0;
    const budget = this.state.budget;
    if (!budget) return want;
    const openCalls = [...this.open.values()].flat().reduce((n, b) => n + b.calls, 0);
    const cost = this.state.cost();
    const dearest = this.state.ledger.dearestCall;
    // Calls k with spent + (open + k) × dearest < cap, per limit the run has.
    let room = want;
    for (const [cap, spent, each] of [
      [budget.usd, cost.usd, dearest.usd],
      [budget.tokens, cost.tokens, dearest.tokens],
    ] as const) {
      if (cap === undefined || each <= 0) continue;
      room = Math.min(room, Math.ceil((cap - spent) / each - openCalls) - 1);
    }
    // Before any call was measured, one call at a time: its price is unknown.
    const unmeasured = this.perCall && dearest.usd <= 0 && dearest.tokens <= 0;
    if (openCalls === 0) return unmeasured ? 1 : Math.max(1, room);
    return unmeasured ? 0 : Math.max(0, room);
  }

  /**
   * Whether batch `seq` of a child was asked for already (and notes it). A ticket child asks one
   * batch at a time, so its numbers only grow; an epic's sub-run forwards its children's requests
   * concurrently and signals may overtake each other, so its numbers are remembered one by one.
   */
  private askedBefore(ticketId: string, seq: number): boolean {
    if (isEpic({ role: this.state.roleOf(ticketId) ?? '' })) {
      const seen = this.epicSeqs.get(ticketId) ?? new Set<number>();
      this.epicSeqs.set(ticketId, seen);
      return seen.has(seq) || !seen.add(seq);
    }
    if (seq <= (this.lastSeq.get(ticketId) ?? 0)) return true;
    this.lastSeq.set(ticketId, seq);
    return false;
  }

  /**
   * Why a ticket's request cannot be its own: a ticket child asks for batch 1, 2, 3, ... in turn,
   * so a request beyond the next one is forged (accepted, it would make the child's real next
   * request look asked-for, and the child would wait for a grant forever). Epics are exempt
   * (their sub-run's numbers are not consecutive); runs recorded before it accept any number.
   */
  private skipsAhead(ticketId: string, seq: number): string | undefined {
    if (isEpic({ role: this.state.roleOf(ticketId) ?? '' })) return undefined;
    const next = (this.lastSeq.get(ticketId) ?? 0) + 1;
    if (seq <= next || !patched(NEXT_BATCH_PATCH)) return undefined;
    return `permit ${seq} of ${ticketId} is not its next batch (${next})`;
  }

  /** Sends a granted batch's grant again (the child takes only the one it waits for); false if none. */
  private regrant(ticketId: string, seq: number): boolean {
    const b = (this.open.get(ticketId) ?? []).find((o) => o.seq === seq);
    if (!b || !this.perCall || !patched(NEXT_BATCH_PATCH)) return false;
    getExternalWorkflowHandle(b.childId)
      .signal(spendGrantSignal, { seq: b.seq, calls: b.calls, ...(b.nonce ? { nonce: b.nonce } : {}) })
      .catch(() => this.forget(b.ticketId));
    return true;
  }

  /** A fresh grant nonce (none in runs recorded before nonces, or before per-call permits). */
  private nonce(): { nonce?: string } {
    return this.perCall && patched(GRANT_NONCE_PATCH) ? { nonce: uuid4() } : {};
  }

  /**
   * Why an epic's cumulative report is not credible: it lists more calls than the epic was ever
   * granted (its sub-run makes every call under a grant of this run, tree-budget.ts).
   */
  private epicProblem(ticketId: string, spentByRole: SpentByRole): string | undefined {
    const granted = this.epicGranted.get(ticketId);
    if (granted === undefined) return undefined; // granted before nonces: nothing on record
    const calls = Object.values(spentByRole).reduce((n, u) => n + u.calls, 0);
    return calls > granted
      ? `the report lists ${calls} calls, more calls than ${ticketId} was granted (${granted})`
      : undefined;
  }

  private unknownTicket(ticketId: string): string | undefined {
    if (this.state.hasTicket(ticketId)) return undefined;
    const known = this.state.ticketIds();
    return `unknown ticket ${ticketId}; this run's tickets are ${known.join(', ') || '(none yet)'}`;
  }

  private ignore(signal: string, error: string, ticketId?: string): void {
    auditIgnoredSignal(this.state, { signal, error, ticketId });
  }
}

/** Books a child's report: its calls of one kind, or a work batch's with the review's apart. */
export function bookReport(state: RunState, r: Pick<SpendReport, 'ticketId' | 'kind' | 'usage' | 'reviewUsage'>): void {
  const t = state.ticketView(r.ticketId);
  state.ledger.spendReported(t, r.kind, r.usage);
  if (r.reviewUsage) state.ledger.spendReported(t, 'review', r.reviewUsage);
}

/**
 * Audits a malformed or misaddressed permit signal and drops it: a run never dies from a bad
 * signal, and the audit log says who sent what and why it was ignored.
 */
export function auditIgnoredSignal(
  state: RunState,
  what: { signal: string; error: string; ticketId?: string },
  verb: 'ignored' | 'capped' = 'ignored',
): void {
  state.book.log({
    by: 'unknown sender',
    action: `${verb}-${what.signal}`,
    ...(what.ticketId ? { ticketId: what.ticketId } : {}),
    error: what.error,
  });
  state.version++;
}
