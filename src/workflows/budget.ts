/**
 * Permits for LLM calls of a budgeted run. Children ask before each call and report after it;
 * the run grants a permit only while the projected spend (spent + calls in flight, each as
 * expensive as the dearest call so far) stays under the cap, and always when nothing is in
 * flight and the cap is not yet reached. So spending passes the cap by at most one call.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { spendGrantSignal } from '../shared/messages';
import type { Usage } from '../shared/usage';
import type { RunState } from './run-state';

interface Request {
  ticketId: string;
  childId: string;
  seq: number;
}

/** Grants and books LLM-call permits of one run. */
export class BudgetController {
  private readonly queue: Request[] = [];
  private readonly inFlight = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly state: RunState,
    private readonly childIdOf: (ticketId: string) => string,
  ) {}

  /** A child asked for permit `seq`. */
  request(ticketId: string, seq: number): void {
    this.queue.push({ ticketId, childId: this.childIdOf(ticketId), seq });
    this.pump();
  }

  /** A child finished a call: book it and maybe let the next one go. */
  report(ticketId: string, kind: 'work' | 'review', usage: Usage): void {
    this.state.spendReported(ticketId, kind, usage);
    this.inFlight.set(ticketId, Math.max(0, (this.inFlight.get(ticketId) ?? 1) - 1));
    this.pump();
  }

  /** Whether some child waits for a permit. */
  waiting(): boolean {
    return this.queue.length > 0;
  }

  /** A child ended: forget its requests and permits. */
  forget(ticketId: string): void {
    this.inFlight.delete(ticketId);
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.ticketId === ticketId) this.queue.splice(i, 1);
  }

  /** No more permits, ever (a person ended the run at the budget gate). */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /** Grants queued permits while the cap allows; call after anything that changes spending. */
  pump(): void {
    let granted = false;
    while (this.queue.length > 0 && this.mayGrant()) {
      granted = true;
      const r = this.queue.shift()!;
      this.inFlight.set(r.ticketId, (this.inFlight.get(r.ticketId) ?? 0) + 1);
      getExternalWorkflowHandle(r.childId)
        .signal(spendGrantSignal, { seq: r.seq })
        .catch(() => this.forget(r.ticketId)); // the child already ended
    }
    // A waiting child changes what the scheduler decides (a budget gate may be due) even when
    // nothing was granted; a grant changes nothing the scheduler reads.
    if (!granted) this.state.version++;
  }

  private mayGrant(): boolean {
    if (this.stopped || this.state.overBudget()) return false;
    const budget = this.state.budget;
    if (!budget) return true;
    const flying = [...this.inFlight.values()].reduce((a, b) => a + b, 0);
    if (flying === 0) return true;
    const cost = this.state.cost();
    const dearest = this.state.dearestCall;
    const okUsd = budget.usd === undefined || cost.usd + (flying + 1) * dearest.usd < budget.usd;
    const okTokens = budget.tokens === undefined || cost.tokens + (flying + 1) * dearest.tokens < budget.tokens;
    return okUsd && okTokens;
  }
}
