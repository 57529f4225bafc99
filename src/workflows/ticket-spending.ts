/**
 * Spending control inside a ticket child: its own budget (escalate before a call once it is
 * used up) and, in a budgeted run, a permit from the run before every LLM call.
 */
import { condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import { spendGrantSignal, spendReportSignal, spendRequestSignal } from '../shared/messages';
import type { TicketInput } from '../shared/types';
import { addUsage, emptyUsage, totalTokens, type Usage } from '../shared/usage';

/** Tracks and gates one child's LLM spending. */
export class TicketSpending {
  private spent: Usage = emptyUsage();
  private granted = 0;
  private requested = 0;

  constructor(private readonly input: TicketInput) {
    if (input.budgetPermits) {
      setHandler(spendGrantSignal, ({ seq }) => {
        this.granted = Math.max(this.granted, seq);
      });
    }
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

  /** Waits for the run's permit to make one LLM call (no-op when the run has no budget). */
  async permit(): Promise<void> {
    if (!this.input.budgetPermits) return;
    const seq = ++this.requested;
    await this.parent().signal(spendRequestSignal, { ticketId: this.input.ticket.id, seq });
    await condition(() => this.granted >= seq);
  }

  /** Books a finished call and tells the run about it. */
  async report(kind: 'work' | 'review', usage: Usage): Promise<void> {
    this.spent = addUsage(this.spent, usage);
    if (this.input.budgetPermits) {
      await this.parent().signal(spendReportSignal, { ticketId: this.input.ticket.id, kind, usage });
    }
  }

  private parent() {
    const parent = workflowInfo().parent;
    if (!parent) throw new Error('budget permits need a parent run');
    return getExternalWorkflowHandle(parent.workflowId, parent.runId);
  }
}
