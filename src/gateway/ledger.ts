/**
 * The bill and the budget of one gateway (one ticket attempt): every call the provider was sent
 * is recorded as an `LlmCallRecord` (answered or failed), the call permits are taken before a call
 * is made (so concurrent requests can never pass them), and the first reason to refuse (permits
 * used up, wall clock passed, gateway closed) is kept so the activity can say why its CLI stopped.
 * The executor activity reads `snapshot()` (and heartbeats it).
 */
import type { LlmCallRecord } from '../shared/types';
import { addUsage, emptyUsage, usageOfRecord, type Usage } from '../shared/usage';

/** Why a gateway refuses every further call. */
export type StopReason = 'permits' | 'wall-clock' | 'closed';

/** What the activity reads of its gateway. */
export interface GatewayLedger {
  /** Every upstream call, oldest first (failed ones carry `error`). */
  calls: LlmCallRecord[];
  /** The calls added up. */
  usage: Usage;
  /** Call permits given (absent: no limit) and taken. */
  permits?: number;
  permitsUsed: number;
  /** Requests served by kind. */
  requests: { total: number; refused: number; unauthorized: number; invalid: number };
  /** Set once the gateway refuses every further call, with the message the CLI was sent. */
  stopped?: { reason: StopReason; message: string; at: string };
  /** The request log: requests logged, and requests left out past its bound. */
  log: { entries: number; dropped: number };
}

/** The mutable ledger behind `GatewayLedger` snapshots. */
export class Ledger {
  readonly calls: LlmCallRecord[] = [];
  permitsUsed = 0;
  readonly requests = { total: 0, refused: 0, unauthorized: 0, invalid: 0 };
  stopped?: GatewayLedger['stopped'];

  constructor(
    readonly permits: number | undefined,
    private readonly deadline: number,
  ) {}

  /** Why a call cannot be made now, or undefined; a refusal sticks (the CLI is told each time). */
  refusal(now = Date.now()): GatewayLedger['stopped'] {
    if (this.stopped) return this.stopped;
    if (now >= this.deadline)
      return this.stop(
        'wall-clock',
        "the ticket attempt's wall-clock limit has passed; the Maestro gateway refuses further model calls",
      );
    if (this.permits !== undefined && this.permitsUsed >= this.permits)
      return this.stop(
        'permits',
        `the ${this.permits} model call(s) the run's budget allowed this attempt are used up; the Maestro gateway refuses further calls`,
      );
    return undefined;
  }

  /** Marks the gateway stopped (the first reason wins). */
  stop(reason: StopReason, message: string): NonNullable<GatewayLedger['stopped']> {
    this.stopped ??= { reason, message, at: new Date().toISOString() };
    return this.stopped;
  }

  /** Takes one permit; false (and the refusal is recorded) when none is left. */
  take(): boolean {
    if (this.refusal()) return false;
    this.permitsUsed++;
    return true;
  }

  /** Milliseconds left of the wall clock. */
  left(now = Date.now()): number {
    return Math.max(0, this.deadline - now);
  }

  /** A copy for the activity (safe to heartbeat). */
  snapshot(log: GatewayLedger['log']): GatewayLedger {
    return {
      calls: this.calls.map((c) => ({ ...c })),
      usage: this.calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage()),
      ...(this.permits !== undefined ? { permits: this.permits } : {}),
      permitsUsed: this.permitsUsed,
      requests: { ...this.requests },
      ...(this.stopped ? { stopped: { ...this.stopped } } : {}),
      log: { ...log },
    };
  }
}
