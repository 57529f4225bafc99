/**
 * A refusal must not read as "nothing pending" because the caller's own gate text says so: with a
 * gate still pending, a request naming a gate `p is no longer pending` is refused for its
 * contradiction and stays a DecisionRefusedError; a script that treats GateNotPendingError as
 * "someone else decided it" would otherwise walk away from a gate that still waits.
 */
import { decisionRefused, GateNotPendingError } from '../../src/client/errors';
import { GateBook } from '../../src/workflows/gates';

function refusal(book: GateBook, req: Parameters<GateBook['resolve']>[0]): Error {
  try {
    book.resolve(req, ['T1']);
  } catch (err) {
    return decisionRefused('r', (err as Error).message);
  }
  throw new Error('not refused');
}

it.each([
  [{ gate: 'x is no longer pending', gateId: 'plan#1' }],
  [{ gate: 'plan', gateId: 'y is no longer pending' }],
  [{ gateId: 'no gate is pending' }],
  [{ gate: 'no pending plan gate' }],
])('%j with a gate pending is not GateNotPendingError', (req) => {
  const book = new GateBook(() => '2026-12-07T10:00:00.000Z');
  book.open('plan', 'approve the plan', { timeoutMs: 0 } as never);
  expect(book.pending()).toHaveLength(1);
  expect(refusal(book, req)).not.toBeInstanceOf(GateNotPendingError);
});

it('the real "nothing pending" refusals still are', () => {
  const book = new GateBook(() => '2026-12-07T10:00:00.000Z');
  book.open('plan', 'approve the plan', { timeoutMs: 0 } as never);
  expect(refusal(book, { gate: 'budget' })).toBeInstanceOf(GateNotPendingError);
});
