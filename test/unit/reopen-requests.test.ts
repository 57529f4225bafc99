/**
 * Which of the Boss's re-open requests a testing ticket passes on to the run: only those naming
 * one of its own dependencies, each once. A review that names an unrelated ticket, the ticket
 * itself or a made-up id must not send accepted work back.
 */
import type { TicketOutput } from '../../src/shared/types';
import { reopenRequests } from '../../src/workflows/reopen';

const dep = (ticketId: string): TicketOutput => ({
  ticketId,
  role: 'coder',
  title: `Build ${ticketId}`,
  summary: 'built',
  artifacts: [],
});
const input = { dependencies: [dep('T1'), dep('T3')] };

it('keeps requests naming a dependency, each once, in the order the Boss gave', () => {
  const got = reopenRequests(input, [
    { ticketId: 'T3', feedback: 'the page has no lang attribute' },
    { ticketId: 'T1', feedback: 'the palette fails contrast' },
    { ticketId: 'T3', feedback: 'again' },
  ]);
  expect(got).toEqual([
    { ticketId: 'T3', feedback: 'the page has no lang attribute' },
    { ticketId: 'T1', feedback: 'the palette fails contrast' },
  ]);
});

it('ignores tickets that are not dependencies: unrelated ones, the tester itself, made-up ids', () => {
  expect(
    reopenRequests(input, [
      { ticketId: 'T2', feedback: 'not a dependency' },
      { ticketId: 'T4', feedback: 'the testing ticket itself' },
      { ticketId: 'T99', feedback: 'no such ticket' },
    ]),
  ).toEqual([]);
});

it('treats a missing or null list as no request', () => {
  expect(reopenRequests(input, undefined)).toEqual([]);
  expect(reopenRequests(input, null)).toEqual([]);
  expect(reopenRequests({ dependencies: [] }, [{ ticketId: 'T1', feedback: 'x' }])).toEqual([]);
});
