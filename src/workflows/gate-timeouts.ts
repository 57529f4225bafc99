/**
 * What a gate's timeout policy means, one table per gate kind. A timeout decides on people's
 * behalf only in ways that end or accept something: it never sends work back (no re-plan, no
 * ticket retry, no report revision), so a timed-out gate cannot start a loop. The README's
 * "Gate timeouts" table is this table; a unit test keeps the two in step.
 */
import type { Decision } from '../shared/messages';
import type { GateKind, GateTimeoutPolicy } from '../shared/types';

/** One row of the table: what the policy does at a gate of this kind, and the decision recorded. */
export interface TimeoutMeaning {
  /** The decision the timeout records (absent: it records none — `fail` ends the run, `wait` keeps waiting). */
  decision?: Decision;
  /** What a person sees happen, as the README states it. */
  meaning: string;
}

const FAIL: TimeoutMeaning = { meaning: 'the run fails with a gate-timeout error' };
const WAIT: TimeoutMeaning = { meaning: 'keeps waiting for a person, the deadline is noted in the audit log' };

/** Per gate kind and timeout policy: what happens when nobody decides in time. */
export const GATE_TIMEOUTS: Record<GateKind, Record<GateTimeoutPolicy, TimeoutMeaning>> = {
  plan: {
    approve: {
      decision: 'approve',
      meaning: 'the plan is approved; after a planning failure, planning is tried again (within --max-replans)',
    },
    reject: { decision: 'reject', meaning: 'the run fails: the plan is not approved and nobody re-plans' },
    fail: FAIL,
    wait: WAIT,
  },
  ticket: {
    approve: {
      decision: 'approve',
      meaning: "the ticket's last result is accepted over failing checks; one without a result is skipped",
    },
    reject: { decision: 'skip', meaning: 'the ticket is skipped (its dependents are blocked); it is never retried' },
    fail: FAIL,
    wait: WAIT,
  },
  final: {
    approve: { decision: 'approve', meaning: 'the result is approved' },
    reject: { decision: 'reject', meaning: 'the run ends `rejected` with its report as is (no revision)' },
    fail: FAIL,
    wait: WAIT,
  },
  budget: {
    approve: { decision: 'approve', meaning: 'the budget is extended by its original amount' },
    reject: { decision: 'reject', meaning: 'spending stops; the run ends `stopped` with what is done' },
    fail: FAIL,
    wait: WAIT,
  },
};

/**
 * The decision a timeout records at a gate, given the decisions the gate takes: a ticket gate
 * that cannot be approved (no result) is skipped instead.
 */
export function timeoutDecision(kind: GateKind, policy: 'approve' | 'reject', allowed: readonly Decision[]): Decision {
  const decision = GATE_TIMEOUTS[kind][policy].decision!;
  return allowed.includes(decision) ? decision : 'skip';
}
