/**
 * The durable wire API of Maestro's workflows: queries (and, later, signals and updates) are
 * defined once here and used by name from the client, the workflows and the tests. Never
 * rename a released wire name: running workflows and scripts depend on it.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RunStatus, TicketOutcome } from './types';

/** The run's live state: phase, tickets, gates, cost. */
export const statusQuery = defineQuery<RunStatus>('status');

/** A ticket child's progress (same wire name on the child workflow). */
export interface TicketProgress {
  ticketId: string;
  attempt: number;
  stage: 'working' | 'reviewing' | 'done';
  reviews: TicketOutcome['reviews'];
  workUsage: TicketOutcome['workUsage'];
  reviewUsage: TicketOutcome['reviewUsage'];
}

/** Query of a ticket child workflow. */
export const ticketStatusQuery = defineQuery<TicketProgress>('status');
