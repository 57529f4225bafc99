/**
 * Webhook notifications of a run: a POST per URL when a gate opens (started, never awaited by the
 * gate) and when the run ends. Delivery is an activity with a short, bounded retry policy; a
 * delivery that still fails is written to the audit log and never changes the run. Runs without
 * `notify` URLs schedule nothing, so their histories (and older recorded ones) are unchanged.
 */
import {
  CancellationScope,
  isCancellation,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import type { NotificationFacts } from '../shared/notifications';
import type { RunResult } from '../shared/types';
import { acceptedOnMerits } from '../shared/outcomes';
import { rootCause } from './failures';
import type { RunState } from './run-state';

/**
 * A few quick attempts (about 7 s of backoff in all), so a dead webhook costs the run's end at
 * most about a minute and a gate notification arrives while the gate is still fresh.
 */
const NOTIFY_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
};

const { deliverNotification } = proxyActivities<MaestroActivities>(NOTIFY_ACTIVITY);

/** Tells a run's webhooks about opened gates and the end; see the file comment. */
export class RunNotifier {
  private readonly told = new Set<string>();
  private readonly sending: Promise<void>[] = [];

  /** `notified`: gates already told in the run's previous execution (continue-as-new). */
  constructor(
    private readonly state: RunState,
    notified: readonly string[] = [],
  ) {
    for (const id of notified) this.told.add(id);
  }

  /** Ids of the pending gates already told (carried when the run continues as new). */
  toldPending(): string[] {
    return this.state.book
      .pending()
      .map((g) => g.id)
      .filter((id) => this.told.has(id));
  }

  /** Waits for every delivery still going (before the run continues as new). */
  async drain(): Promise<void> {
    await Promise.all(this.sending);
  }

  private get urls(): string[] {
    return this.state.input.notify?.urls ?? [];
  }

  /** Called whenever the run publishes its state: posts each gate that opened since, without waiting. */
  gatesOpened(): void {
    if (this.urls.length === 0) return;
    for (const gate of this.state.book.pending()) {
      if (this.told.has(gate.id)) continue;
      this.told.add(gate.id);
      const title = gate.ticketId ? this.state.ticketViews().find((t) => t.id === gate.ticketId)?.title : undefined;
      this.sending.push(
        ...this.post({ ...this.facts('gate-opened'), gate: { ...gate }, ...(title ? { ticketTitle: title } : {}) }),
      );
    }
  }

  /**
   * Posts how the run ended and waits for every delivery still going (bounded by the retry
   * policy), so none is cut off when the run closes. Runs even when the run was cancelled.
   */
  async runEnded(end: NonNullable<NotificationFacts['end']>): Promise<void> {
    if (this.urls.length === 0) return;
    await CancellationScope.nonCancellable(async () => {
      await Promise.all([...this.post({ ...this.facts('run-ended'), end }), ...this.sending]);
    });
  }

  /** The end facts of a result about to be returned. */
  static endOf(result: RunResult): NonNullable<NotificationFacts['end']> {
    return {
      phase: result.status === 'stopped' ? 'stopped' : 'completed',
      outcome: result.status,
      // Accepted on their merits: a ticket accepted over failing checks is no success to announce.
      accepted: result.tickets.filter(acceptedOnMerits).length,
      tickets: result.tickets.length,
    };
  }

  private facts(event: NotificationFacts['event']): NotificationFacts {
    const s = this.state;
    const cost = s.cost();
    const webUiUrl = s.input.notify?.webUiUrl;
    return {
      event,
      runId: s.runId,
      goal: s.input.goal,
      namespace: workflowInfo().namespace,
      at: new Date().toISOString(),
      cost: { usd: cost.usd, tokens: cost.tokens },
      ...(s.budget ? { budget: { ...s.budget } } : {}),
      ...(webUiUrl ? { webUiUrl } : {}),
    };
  }

  /** One delivery per URL; a failure is audited, a cancellation ignored. */
  private post(facts: NotificationFacts): Promise<void>[] {
    const what = facts.gate ? `${facts.event} ${facts.gate.id}` : facts.event;
    return this.urls.map((url, i) =>
      deliverNotification.executeWithOptions({ summary: `notify ${what} (webhook ${i + 1})` }, [{ url, facts }]).then(
        () => undefined,
        (err: unknown) => {
          if (isCancellation(err)) return;
          this.state.book.log({
            by: 'maestro',
            action: 'notify-failed',
            ...(facts.gate ? { gate: facts.gate.id } : {}),
            comment: `${what} to webhook ${i + 1} of ${this.urls.length}`,
            error: rootCause(err).message,
          });
          this.state.version++;
        },
      ),
    );
  }
}
