/** A small ticket that tests run on their own as a ticket child workflow (no run around it). */
import type { Ticket } from '../../src/shared/schemas';

/** A writer ticket with one file to deliver. */
export const WRITER_TICKET: Ticket = {
  id: 'T1',
  role: 'writer',
  title: 'Write the usage guide',
  spec: 'Write a short usage guide for a command-line timer. Deliver `docs/usage.md`.',
  acceptanceCriteria: ['docs/usage.md explains how to start and stop the timer'],
  dependsOn: [],
};
