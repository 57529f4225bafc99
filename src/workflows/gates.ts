/**
 * Human approval gates of a run. A gate is a pending question to people (approve the plan,
 * decide on an escalated ticket, extend the budget, approve the result); decisions arrive as
 * signals or the `decide` update, are validated here, and go into the audit log. Pure state plus
 * one awaiting helper; no I/O.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { z } from 'zod';
import { FailureType } from '../shared/errors';
import type { Decision } from '../shared/messages';
import type { AuditEntry, GateKind, GateTimeoutPolicy, GateView } from '../shared/types';
import { foldIgnored } from './audit-limit';

/** Wire shape of `approve`/`reject` payloads; unknown keys are refused so typos are noticed. */
export const DecisionPayload = z
  .object({
    gate: z.enum(['plan', 'ticket', 'final', 'budget']).optional(),
    ticketId: z.string().max(16).optional(),
    by: z.string().trim().min(1).max(200).optional(),
    comment: z.string().max(4000).optional(),
    action: z.enum(['retry', 'skip', 'abort']).optional(),
  })
  .strict();

/** Wire shape of the `decide` update. */
export const DecidePayload = DecisionPayload.omit({ action: true })
  .extend({ decision: z.enum(['approve', 'reject', 'retry', 'skip', 'abort']) })
  .strict();

/** Wire shape of `raiseBudget`. */
export const RaiseBudgetPayload = z
  .object({
    usd: z.number().finite().positive().max(1_000_000).optional(),
    tokens: z.number().int().positive().max(1e12).optional(),
    by: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.usd !== undefined || b.tokens !== undefined, 'give usd (dollars) and/or tokens to add');

/** Decisions each gate kind accepts. */
const ALLOWED: Record<GateKind, readonly Decision[]> = {
  plan: ['approve', 'reject'],
  final: ['approve', 'reject'],
  budget: ['approve', 'reject'],
  ticket: ['approve', 'reject', 'retry', 'skip', 'abort'],
};

/**
 * What a decision on a ticket gate means: `reject` sends the ticket back when the person said
 * why (retry with their comment as feedback), else skips it. The one place this is defined.
 */
export function ticketDecision(decision: Decision, comment?: string): Decision {
  return decision === 'reject' ? (comment ? 'retry' : 'skip') : decision;
}

/** Timeout handling of one gate kind. */
export interface GatePolicy {
  /** Milliseconds to wait for a person; undefined waits forever. */
  timeoutMs?: number;
  onTimeout: GateTimeoutPolicy;
}

/** A settled gate: the decision and who made it. */
export interface GateOutcome {
  decision: Decision;
  by: string;
  comment?: string;
}

/** Thrown by validators: a readable message, never retried, never fails the workflow. */
export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.BadInput, message, nonRetryable: true });
}

/** First problem of a zod error as one readable sentence. */
export function zodProblem(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid payload';
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** The run's gates and audit log. */
export class GateBook {
  readonly gates: GateView[] = [];
  readonly audit: AuditEntry[] = [];
  private readonly outcomes = new Map<string, GateOutcome>();
  private seq = 0;

  constructor(private readonly now: () => string) {}

  /** Opens a gate and returns it (pending). */
  open(kind: GateKind, reason: string, policy: GatePolicy, ticketId?: string): GateView {
    this.seq++;
    const openedAt = this.now();
    const gate: GateView = {
      id: `${kind}${ticketId ? `:${ticketId}` : ''}#${this.seq}`,
      kind,
      ...(ticketId ? { ticketId } : {}),
      reason,
      openedAt,
      ...(policy.timeoutMs !== undefined
        ? { deadline: new Date(Date.parse(openedAt) + policy.timeoutMs).toISOString() }
        : {}),
      onTimeout: policy.onTimeout,
      state: 'pending',
    };
    this.gates.push(gate);
    this.log({ by: 'maestro', action: 'gate-opened', gate: gate.id, ticketId, comment: reason });
    return gate;
  }

  /** Gates waiting for a person. */
  pending(): GateView[] {
    return this.gates.filter((g) => g.state === 'pending');
  }

  /** The outcome of a settled gate. */
  outcome(gate: GateView): GateOutcome | undefined {
    return this.outcomes.get(gate.id);
  }

  /**
   * Finds the one pending gate a request means, or throws a message saying why not. `knownTickets`
   * lets it tell an unknown ticket from one that has no gate.
   */
  resolve(req: { gate?: GateKind; ticketId?: string }, knownTickets: readonly string[]): GateView {
    if (req.ticketId !== undefined && !knownTickets.includes(req.ticketId)) {
      throw badInput(
        `unknown ticket ${req.ticketId}; this run's tickets are ${knownTickets.join(', ') || '(none yet)'}`,
      );
    }
    const pending = this.pending();
    const matches = pending.filter(
      (g) =>
        (req.gate === undefined || g.kind === req.gate) && (req.ticketId === undefined || g.ticketId === req.ticketId),
    );
    if (matches.length === 1) return matches[0]!;
    const what = `${req.gate ?? 'any'} gate${req.ticketId ? ` for ticket ${req.ticketId}` : ''}`;
    if (matches.length === 0) {
      const decided = [...this.gates]
        .reverse()
        .find(
          (g) =>
            g.state !== 'pending' &&
            (!req.gate || g.kind === req.gate) &&
            (!req.ticketId || g.ticketId === req.ticketId),
        );
      if (pending.length === 0 && decided?.decision) {
        throw badInput(
          `no gate is pending: the ${decided.kind} gate${decided.ticketId ? ` of ${decided.ticketId}` : ''} was already ${decided.state} by ${decided.decision.by} at ${decided.decision.at}`,
        );
      }
      if (pending.length === 0) throw badInput('no gate is pending in this run right now; check `maestro status`');
      throw badInput(`no pending ${what}; pending: ${pending.map((g) => g.id).join(', ')}`);
    }
    throw badInput(
      `${matches.length} gates are pending (${matches.map((g) => g.id).join(', ')}): say which with gate and ticketId`,
    );
  }

  /** Checks that a decision fits a gate (e.g. `skip` only for tickets). */
  checkDecision(gate: GateView, decision: Decision): void {
    if (!ALLOWED[gate.kind].includes(decision)) {
      throw badInput(`a ${gate.kind} gate takes ${ALLOWED[gate.kind].join(' or ')}, not ${decision}`);
    }
  }

  /** Settles a pending gate and audits the decision. */
  settle(
    gate: GateView,
    outcome: GateOutcome,
    state: GateView['state'] = outcome.decision === 'approve' ? 'approved' : 'rejected',
  ): void {
    const at = this.now();
    gate.state = state;
    gate.decision = {
      decision: outcome.decision,
      by: outcome.by,
      at,
      ...(outcome.comment ? { comment: outcome.comment } : {}),
    };
    this.outcomes.set(gate.id, outcome);
    this.log({
      by: outcome.by,
      action: outcome.decision,
      gate: gate.id,
      ticketId: gate.ticketId,
      comment: outcome.comment,
    });
  }

  /** Adds an audit entry stamped now. */
  log(entry: Omit<AuditEntry, 'at'>): void {
    const clean = Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as Omit<
      AuditEntry,
      'at'
    >;
    if (foldIgnored(this.audit, clean, this.now())) return;
    this.audit.push({ at: this.now(), ...clean });
  }
}

/**
 * Waits for a person to settle `gate`, applying its timeout policy: approve or reject on their
 * behalf, fail the run, or keep waiting. The timer carries a summary for the Web UI.
 */
export async function awaitGate(book: GateBook, gate: GateView, policy: GatePolicy): Promise<GateOutcome> {
  const settled = () => gate.state !== 'pending';
  if (policy.timeoutMs === undefined || policy.onTimeout === 'wait') {
    if (policy.timeoutMs !== undefined) {
      await condition(settled, policy.timeoutMs, { summary: `${gate.id} waits for a person` });
      if (!settled()) book.log({ by: 'timeout-policy', action: 'timeout-keep-waiting', gate: gate.id });
    }
    await condition(settled);
  } else if (!(await condition(settled, policy.timeoutMs, { summary: `${gate.id} timeout (${policy.onTimeout})` }))) {
    const by = 'timeout-policy';
    if (policy.onTimeout === 'fail') {
      book.settle(gate, { decision: 'reject', by, comment: 'no decision before the deadline' }, 'timed-out');
      throw ApplicationFailure.create({
        type: FailureType.GateTimedOut,
        message: `the ${gate.kind} gate (${gate.id}) timed out without a decision and its policy is to fail the run`,
        nonRetryable: true,
      });
    }
    book.settle(gate, { decision: policy.onTimeout, by, comment: 'no decision before the deadline' }, 'timed-out');
  }
  return book.outcome(gate)!;
}
