/**
 * Human approval gates of a run. A gate is a pending question to people (approve the plan,
 * decide on an escalated ticket, extend the budget, approve the result); decisions arrive as
 * signals or the `decide` update, are validated here, and go into the audit log. Pure state plus
 * one awaiting helper; no I/O.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { FailureType } from '../shared/errors';
import type { Decision } from '../shared/messages';
import { isGateKind } from '../shared/gate-id';
import { badInput } from './gate-payloads';
import { timeoutDecision } from './gate-timeouts';
import { keepsGatePromises } from './patches';
import type { AuditEntry, GateKind, GateTimeoutPolicy, GateView } from '../shared/types';
import { foldIgnored, foldRaise } from './audit-limit';
import { recordGateWait } from './gate-metrics';
import { plainLine } from '../shared/model-text';

/** Decisions each gate kind accepts. */
const ALLOWED: Record<GateKind, readonly Decision[]> = {
  plan: ['approve', 'reject'],
  final: ['approve', 'reject'],
  budget: ['approve', 'reject'],
  ticket: ['approve', 'reject', 'retry', 'skip', 'abort'],
};

/** Decisions a gate takes (gates recorded before `decisions` existed take their kind's). */
export function allowedDecisions(gate: GateView): readonly Decision[] {
  return gate.decisions ?? ALLOWED[gate.kind];
}

/** Decisions of a ticket gate whose ticket has no result: approving it would accept nothing. */
export const NO_RESULT_DECISIONS: readonly Decision[] = ['reject', 'retry', 'skip', 'abort'];

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
  /** Made by the timeout policy: callers never turn it into a retry (see gate-timeouts.ts). */
  timedOut?: boolean;
}

/** What a decision names: a gate kind or id (`gate`), a gate id (`gateId`), a ticket. */
export interface GateRequest {
  gate?: string;
  gateId?: string;
  ticketId?: string;
}

/** Splits `gate` into a kind or an id; refuses a `gate` id that contradicts `gateId`. */
function splitGateRef(req: GateRequest): { kind?: GateKind; gateId?: string } {
  const gate = req.gate;
  const gateIsId = gate !== undefined && !isGateKind(gate);
  if (gateIsId && req.gateId !== undefined && gate !== req.gateId) {
    throw badInput(`gate ${gate} and gateId ${req.gateId} name different gates; give one`);
  }
  const gateId = req.gateId ?? (gateIsId ? gate : undefined);
  const kind = gate !== undefined && !gateIsId ? gate : undefined;
  if (kind && gateId && !gateId.startsWith(kind)) throw badInput(`gate ${gateId} is not a ${kind} gate`);
  return { ...(kind ? { kind } : {}), ...(gateId !== undefined ? { gateId } : {}) };
}

/** A GateBook as plain data, carried when a run continues as new. */
export interface GateBookData {
  gates: GateView[];
  audit: AuditEntry[];
  outcomes: [string, GateOutcome][];
  seq: number;
}

/** The run's gates and audit log. */
export class GateBook {
  readonly gates: GateView[] = [];
  readonly audit: AuditEntry[] = [];
  private readonly outcomes = new Map<string, GateOutcome>();
  private seq = 0;

  constructor(private readonly now: () => string) {}

  /** Milliseconds until `deadline` (at least 1) by the run's clock: a carried gate keeps its deadline. */
  msUntil(deadline: string): number {
    return Math.max(1, Date.parse(deadline) - Date.parse(this.now()));
  }

  /** The book as plain data (continue-as-new). */
  snapshot(): GateBookData {
    return { gates: this.gates, audit: this.audit, outcomes: [...this.outcomes], seq: this.seq };
  }

  /** Takes over a book carried from the run's previous execution. */
  restore(data: GateBookData): void {
    this.gates.push(...data.gates);
    this.audit.push(...data.audit);
    for (const [id, outcome] of data.outcomes) this.outcomes.set(id, outcome);
    this.seq = data.seq;
  }

  /** Opens a gate and returns it (pending); its reason (often quoting model text) is kept on one line. */
  open(
    kind: GateKind,
    text: string,
    policy: GatePolicy,
    ticketId?: string,
    decisions: readonly Decision[] = ALLOWED[kind],
  ): GateView {
    this.seq++;
    const reason = plainLine(text);
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
      decisions: [...decisions],
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
   * Finds the one pending gate a request means, or throws a message saying why not. A gate id
   * must name a pending gate (a person decides on what they saw, never on its successor); a kind
   * alone only fits while exactly one gate of it is pending. `knownTickets` lets it tell an
   * unknown ticket from one that has no gate.
   */
  resolve(req: GateRequest, knownTickets: readonly string[]): GateView {
    const { kind, gateId } = splitGateRef(req);
    if (req.ticketId !== undefined && !knownTickets.includes(req.ticketId)) {
      throw badInput(
        `unknown ticket ${req.ticketId}; this run's tickets are ${knownTickets.join(', ') || '(none yet)'}`,
      );
    }
    const pending = this.pending();
    const pendingNow =
      pending.length > 0 ? `pending now: ${pending.map((g) => g.id).join(', ')}` : 'no gate is pending now';
    if (gateId !== undefined) {
      const gate = this.gates.find((g) => g.id === gateId);
      if (!gate) throw badInput(`this run has no gate ${gateId}; ${pendingNow}`);
      if (req.ticketId !== undefined && gate.ticketId !== req.ticketId) {
        throw badInput(`gate ${gateId} is not a gate of ticket ${req.ticketId}`);
      }
      if (gate.state !== 'pending') {
        const d = gate.decision;
        throw badInput(
          `gate ${gateId} is no longer pending: it was ${gate.state}${d ? ` by ${d.by} at ${d.at}` : ''}; ${pendingNow}`,
        );
      }
      return gate;
    }
    const matches = pending.filter(
      (g) => (kind === undefined || g.kind === kind) && (req.ticketId === undefined || g.ticketId === req.ticketId),
    );
    if (matches.length === 1) return matches[0]!;
    const what = `${kind ?? 'any'} gate${req.ticketId ? ` for ticket ${req.ticketId}` : ''}`;
    if (matches.length === 0) {
      const decided = [...this.gates]
        .reverse()
        .find(
          (g) => g.state !== 'pending' && (!kind || g.kind === kind) && (!req.ticketId || g.ticketId === req.ticketId),
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
      `${matches.length} gates are pending (${matches.map((g) => g.id).join(', ')}): say which with its gate id (gate: "${matches[0]!.id}")`,
    );
  }

  /** Checks that a decision fits a gate (e.g. `skip` only for tickets). */
  checkDecision(gate: GateView, decision: Decision): void {
    const allowed = allowedDecisions(gate);
    if (!allowed.includes(decision)) {
      const why = ALLOWED[gate.kind].includes(decision) ? `: ${gate.ticketId ?? gate.id} has no result to accept` : '';
      throw badInput(`a ${gate.kind} gate takes ${allowed.join(' or ')}, not ${decision}${why}`);
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
    recordGateWait(gate);
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
    if (foldIgnored(this.audit, clean, this.now()) || foldRaise(this.audit, clean, this.now())) return;
    this.audit.push({ at: this.now(), ...clean });
  }
}

/**
 * Waits for a person to settle `gate`, applying its timeout policy as GATE_TIMEOUTS defines it
 * (decide on their behalf without ever sending work back, fail the run, or keep waiting). The
 * timer carries a summary for the Web UI.
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
    const comment = 'no decision before the deadline';
    if (keepsGatePromises()) {
      const decision = timeoutDecision(gate.kind, policy.onTimeout, allowedDecisions(gate));
      book.settle(gate, { decision, by, comment, timedOut: true }, 'timed-out');
    } else book.settle(gate, { decision: policy.onTimeout, by, comment }, 'timed-out');
  }
  return book.outcome(gate)!;
}
