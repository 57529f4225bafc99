/**
 * Message handlers of the orchestrator, registered through message-handlers.ts. Signals never fail
 * the run: invalid ones are ignored and written to the audit log with the reason. The `decide`
 * update validates first, so the caller gets the error synchronously and nothing changes.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import {
  approveSignal,
  decideUpdate,
  raiseBudgetSignal,
  rejectSignal,
  spendReportSignal,
  spendRequestSignal,
  statusQuery,
  type Decision,
} from '../shared/messages';
import { SpendReport, SpendRequest } from '../shared/permits';
import type { GateView } from '../shared/types';
import type { RunPermits } from './tree-budget';
import { DecidePayload, DecisionPayload, RaiseBudgetPayload } from './gate-payloads';
import { onQuery, onSignal, onUpdate, type IgnoredMessage } from './message-handlers';
import { ticketDecision, type GateBook } from './gates';
import type { RunState } from './run-state';

/** Who a payload says it is from, even when the rest of it is invalid. */
export function claimedBy(raw: unknown): string {
  const by = typeof raw === 'object' && raw !== null ? (raw as { by?: unknown }).by : undefined;
  return typeof by === 'string' && by.trim() ? by.trim().slice(0, 200) : 'anonymous';
}

/** The decision a signal means: `reject` on a ticket gate retries with a comment, else skips. */
function signalDecision(
  verb: 'approve' | 'reject',
  gate: GateView,
  action?: 'retry' | 'skip' | 'abort',
  comment?: string,
): Decision {
  if (verb === 'approve') return 'approve';
  if (gate.kind !== 'ticket') return 'reject';
  return action ?? ticketDecision('reject', comment);
}

/** A handler's error as one line for the audit log (a validator's message, or a bug's). */
function problemOf(err: unknown): string {
  return err instanceof ApplicationFailure ? err.message : `internal error: ${String(err)}`;
}

/** Applies a valid raise: only limits the run has are raised, then a pending budget gate may close. */
function raiseBudget(state: RunState, budget: RunPermits, raise: { usd?: number; tokens?: number }, by: string): void {
  const book = state.book;
  const b = state.budget!;
  // Adding a token cap to a dollar budget would tighten it, so only existing limits grow.
  if (raise.usd !== undefined && b.usd !== undefined) b.usd += raise.usd;
  if (raise.tokens !== undefined && b.tokens !== undefined) b.tokens += raise.tokens;
  const now = [b.usd !== undefined ? `$${b.usd}` : '', b.tokens !== undefined ? `${b.tokens} tokens` : ''].filter(
    Boolean,
  );
  book.log({ by, action: 'raise-budget', comment: `budget is now ${now.join(' and ')}` });
  const gate = book.pending().find((g) => g.kind === 'budget');
  if (gate && !state.overBudget()) book.settle(gate, { decision: 'approve', by, comment: 'budget raised' });
  budget.pump();
}

/**
 * The run's audit of a message it dropped: who it claims to be from (internal `maestro.*` messages
 * come from an unknown sender) and why. `publish` shows it at once (public messages do).
 */
export function runAudit(state: RunState, publish?: () => void): (m: IgnoredMessage) => void {
  return (m) => {
    const internal = m.name.startsWith('maestro.');
    state.book.log({
      by: internal ? 'unknown sender' : claimedBy(m.raw),
      action: `ignored-${m.name.replace(/^maestro\./, '')}`,
      error: m.problem,
    });
    state.version++;
    publish?.();
  };
}

/** Installs every handler of the run. */
export function installHandlers(state: RunState, budget: RunPermits, publish: () => void): void {
  const book: GateBook = state.book;
  onQuery(statusQuery, () => state.status());
  const audit = runAudit(state, publish);

  const onDecision = (verb: 'approve' | 'reject') => (p: DecisionPayload) => {
    const by = claimedBy(p);
    try {
      const gate = book.resolve(p, state.ticketIds());
      const decision = signalDecision(verb, gate, p.action, p.comment);
      book.checkDecision(gate, decision);
      book.settle(gate, { decision, by, comment: p.comment });
    } catch (err) {
      book.log({
        by,
        action: `ignored-${verb}`,
        gate: p.gateId ?? p.gate,
        ticketId: p.ticketId,
        error: problemOf(err),
      });
    }
    state.version++;
    publish();
  };
  onSignal(approveSignal, DecisionPayload, onDecision('approve'), audit);
  onSignal(rejectSignal, DecisionPayload, onDecision('reject'), audit);

  /** The gate a valid `decide` request settles; throws only `badInput` failures. */
  const decideTarget = (p: DecidePayload) => {
    const gate = book.resolve(p, state.ticketIds());
    book.checkDecision(gate, p.decision);
    return gate;
  };
  onUpdate(
    decideUpdate,
    DecidePayload,
    (p) => {
      const gate = decideTarget(p);
      book.settle(gate, { decision: p.decision, by: p.by ?? 'anonymous', comment: p.comment });
      state.version++;
      publish();
      return { gate: { ...gate } };
    },
    { check: (p) => void decideTarget(p), noun: 'decision' },
  );

  onSignal(
    raiseBudgetSignal,
    RaiseBudgetPayload,
    (p) => {
      const by = claimedBy(p);
      if (!state.budget) {
        const parent = state.input.epic?.parentBudget ? state.input.epic.parentRunId : undefined;
        const error = parent
          ? `this epic's sub-run spends from the budget of run ${parent}: raise that run's budget`
          : 'this run has no budget to raise';
        book.log({ by, action: 'ignored-raiseBudget', error });
      } else {
        try {
          raiseBudget(state, budget, p, by);
        } catch (err) {
          book.log({ by, action: 'ignored-raiseBudget', error: problemOf(err) });
        }
      }
      state.version++;
      publish();
    },
    audit,
  );

  // Internal permit protocol: the controller books and audits what does not answer an open request.
  // Spending moves `state.version`; the scheduler loop publishes, so these handlers need not.
  const quiet = runAudit(state);
  onSignal(spendRequestSignal, SpendRequest, (p) => budget.request(p), quiet);
  onSignal(spendReportSignal, SpendReport, (p) => budget.report(p), quiet);
}
