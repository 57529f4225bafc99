/**
 * How a failed `decide` call is told apart: the run's refusals by their words (workflows/gates.ts),
 * and the two ways Temporal reports a decision that reached a run only after it closed.
 */
import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import {
  decisionLostToEnd,
  decisionRefused,
  DecisionRefusedError,
  GateNotPendingError,
  isLostToClosingRun,
} from '../../src/client/errors';

it('refusals that mean "nothing pending" are GateNotPendingError, the others stay DecisionRefusedError', () => {
  for (const reason of [
    'no gate is pending in this run right now; check `maestro status`',
    'no gate is pending: the final gate was already approved by ana at 2026-12-07T08:00:00.000Z',
    'no pending final gate; pending: plan#1',
    'gate plan#1 is no longer pending: it was approved by ana at 2026-12-07T08:00:00.000Z; no gate is pending now',
  ])
    expect(decisionRefused('r', reason)).toBeInstanceOf(GateNotPendingError);
  for (const reason of [
    'this run has no gate plan#9; pending now: plan#1',
    "unknown ticket T9; this run's tickets are T1",
    'a plan gate takes approve or reject, not skip',
    // Words that only contain the phrase somewhere else are not a "not pending" refusal.
    'invalid decision: the gate plan#1 is no longer pending',
  ]) {
    const err = decisionRefused('r', reason);
    expect(err).toBeInstanceOf(DecisionRefusedError);
    expect(err).not.toBeInstanceOf(GateNotPendingError);
  }
});

it('recognises an update aborted by the closing run and one that arrived after it closed', () => {
  const grpc = Object.assign(new Error('10 ABORTED: workflow update was aborted by closing workflow'), {
    code: 10,
    details: 'workflow update was aborted by closing workflow',
  });
  expect(isLostToClosingRun(new ServiceError('Workflow Update failed', { cause: grpc }))).toBe(true);
  expect(isLostToClosingRun(new WorkflowNotFoundError('workflow execution already completed', 'r', undefined))).toBe(
    true,
  );
  expect(isLostToClosingRun(new ServiceError('Workflow Update failed', { cause: new Error('deadline') }))).toBe(false);
  expect(isLostToClosingRun('aborted by closing workflow')).toBe(false);
  // A cycle of causes ends.
  const a = new Error('a') as Error & { cause?: unknown };
  a.cause = a;
  expect(isLostToClosingRun(a)).toBe(false);
});

it('a decision lost to the end of its run is GateNotPendingError saying what happened', () => {
  const err = decisionLostToEnd('run-1', 'COMPLETED');
  expect(err).toBeInstanceOf(GateNotPendingError);
  expect(err.message).toBe(
    'Run run-1 refused the decision: no gate is pending: the run ended (COMPLETED) while this decision was on its way, so it changed nothing; another decision probably settled its last gate first (see `maestro status run-1`)',
  );
});
