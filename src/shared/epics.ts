/**
 * Epics: a plan ticket whose role is `boss` is a large part of the goal that the Boss hands to a
 * sub-Boss, a child orchestrator that plans and runs its own tickets under the same gates, budget
 * and hygiene rules. Pure, so the workflows, the client and the simulated LLM share one rule.
 */
import { MAX_GOAL_CHARS } from './constants';
import { BOSS_ROLE } from './roles';
import type { Ticket } from './schemas';
import type { RoleInfo, RunInput, TicketOutput } from './types';

/** The role an epic ticket has in a plan: the Boss's own name, which no worker role may take. */
export const EPIC_ROLE = BOSS_ROLE;

/**
 * Levels of Bosses a run may have: the top Boss may plan epics, a sub-Boss may not (so 100 epics
 * of 100 tickets is the largest run, and nothing recurses).
 */
export const MAX_BOSS_LEVELS = 2;

/** The pseudo-role the Boss sees in its plan schema when it may plan epics. */
export const EPIC_ROLE_INFO: RoleInfo = {
  name: EPIC_ROLE,
  description:
    'An epic: a large, self-contained part of the goal (up to 100 tickets of its own) that a sub-Boss plans and runs with the same team. Give it a spec that says everything the sub-Boss needs; it will not see the goal. Use epics only when the goal needs more tickets than one plan may hold.',
};

/** Level of the Boss of a run: 1 for a run people started, 2 for a sub-run of an epic. */
export function bossLevel(input: Pick<RunInput, 'epic'>): number {
  return input.epic?.level ?? 1;
}

/** Whether the Boss of this run may plan epics (the run asked for them and the depth allows it). */
export function mayPlanEpics(input: Pick<RunInput, 'epics' | 'epic'>): boolean {
  return input.epics === true && bossLevel(input) < MAX_BOSS_LEVELS;
}

/** Whether a plan ticket is an epic for a sub-Boss. */
export function isEpic(ticket: Pick<Ticket, 'role'>): boolean {
  return ticket.role === EPIC_ROLE;
}

/**
 * The goal a sub-Boss is given: its epic (title, spec, criteria), the outputs of the epic's
 * declared dependencies and, when a person sent the epic back, their comment; bounded like any
 * goal. It never holds the parent's goal or other tickets.
 */
export function epicGoal(ticket: Ticket, dependencies: readonly TicketOutput[], feedback?: string): string {
  const deps = dependencies.map(
    (d) =>
      `- ${d.ticketId} ${d.title} (${d.role}): ${d.summary}${d.artifacts.length > 0 ? ` Files: ${d.artifacts.map((a) => a.path).join(', ')}` : ''}`,
  );
  const text = [
    `Epic ${ticket.id}: ${ticket.title}`,
    '',
    ticket.spec,
    '',
    'Acceptance criteria of the epic:',
    ...ticket.acceptanceCriteria.map((c) => `- ${c}`),
    // Before the dependencies: a goal too long is cut at its end, and the feedback must stay.
    ...(feedback ? ['', 'A person sent an earlier attempt at this epic back with this feedback:', feedback] : []),
    ...(deps.length > 0 ? ['', 'Work this epic builds on (accepted earlier):', ...deps] : []),
  ].join('\n');
  return text.length <= MAX_GOAL_CHARS ? text : `${text.slice(0, MAX_GOAL_CHARS - 1)}…`;
}

/** Where a sub-run's produced file lands in its parent's output folder: under the epic's id. */
export function epicFilePath(epicId: string, path: string): string {
  return `${epicId}/${path}`;
}
