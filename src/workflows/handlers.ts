/**
 * Message handlers of the orchestrator. Signals never fail the run: invalid ones are ignored and
 * written to the audit log with the reason. The `decide` update validates first, so the caller
 * gets the error synchronously and nothing changes.
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
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
import type { GateView } from '../shared/types';
import type { RunPermits } from './tree-budget';
import { badInput, DecidePayload, DecisionPayload, RaiseBudgetPayload, zodProblem } from './gate-payloads';
import { ticketDecision, type GateBook } from './gates';
import type { RunState } from './run-state';

/** Who a payload says it is from, even when the rest of it is invalid. */
function claimedBy(raw: unknown): string {
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

/** Installs every handler of the run. */
export function installHandlers(state: RunState, budget: RunPermits, publish: () => void): void {
  const book: GateBook = state.book;
  setHandler(statusQuery, () => state.status());

  const onSignal = (verb: 'approve' | 'reject') => (raw: unknown) => {
    const by = claimedBy(raw);
    const parsed = DecisionPayload.safeParse(raw);
    if (!parsed.success) {
      book.log({ by, action: `ignored-${verb}`, error: `invalid payload: ${zodProblem(parsed.error)}` });
    } else {
      const p = parsed.data;
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
    }
    state.version++;
    publish();
  };
  setHandler(approveSignal, onSignal('approve'));
  setHandler(rejectSignal, onSignal('reject'));

  /** The gate a valid `decide` request settles; throws only `badInput` failures. */
  const decideTarget = (raw: unknown) => {
    const parsed = DecidePayload.safeParse(raw);
    if (!parsed.success) throw badInput(`invalid decision: ${zodProblem(parsed.error)}`);
    const gate = book.resolve(parsed.data, state.ticketIds());
    book.checkDecision(gate, parsed.data.decision);
    return { gate, p: parsed.data };
  };
  setHandler(
    decideUpdate,
    (raw) => {
      try {
        const { gate, p } = decideTarget(raw);
        book.settle(gate, { decision: p.decision, by: p.by ?? 'anonymous', comment: p.comment });
        state.version++;
        publish();
        return { gate: { ...gate } };
      } catch (err) {
        // A plain Error here would fail the workflow task (and be retried forever): refuse instead.
        throw err instanceof ApplicationFailure
          ? err
          : badInput(`the decision could not be applied: ${problemOf(err)}`);
      }
    },
    {
      validator: (raw) => {
        try {
          decideTarget(raw);
        } catch (err) {
          throw err instanceof ApplicationFailure ? err : badInput(`invalid decision: ${problemOf(err)}`);
        }
      },
    },
  );

  setHandler(raiseBudgetSignal, (raw) => {
    const parsed = RaiseBudgetPayload.safeParse(raw);
    const by = claimedBy(raw);
    if (!parsed.success) {
      book.log({ by, action: 'ignored-raiseBudget', error: `invalid payload: ${zodProblem(parsed.error)}` });
    } else if (!state.budget) {
      const parent = state.input.epic?.parentBudget ? state.input.epic.parentRunId : undefined;
      const error = parent
        ? `this epic's sub-run spends from the budget of run ${parent}: raise that run's budget`
        : 'this run has no budget to raise';
      book.log({ by, action: 'ignored-raiseBudget', error });
    } else {
      try {
        raiseBudget(state, budget, parsed.data, by);
      } catch (err) {
        book.log({ by, action: 'ignored-raiseBudget', error: problemOf(err) });
      }
    }
    state.version++;
    publish();
  });

  // Internal permit protocol: the controller parses, audits and ignores what does not fit.
  setHandler(spendRequestSignal, (raw: unknown) => budget.request(raw));
  // Spending moves `state.version`; the scheduler loop publishes, so these handlers need not.
  setHandler(spendReportSignal, (raw: unknown) => budget.report(raw));
}
