/**
 * Pure checks and scheduling over a plan's dependency graph. Used by the orchestrator workflow
 * (deterministic) and by tests; no I/O, no clocks.
 */
import type { Plan } from './schemas';
import type { TicketState } from './types';

/** Minimal ticket shape the graph functions need. */
export interface GraphTicket {
  id: string;
  role: string;
  dependsOn: string[];
}

/**
 * Every reason the plan cannot run, in words the Boss can act on when re-planning.
 * An empty list means the plan is a valid DAG over known roles.
 */
export function validatePlan(plan: Pick<Plan, 'tickets'>, roles: readonly string[], maxTickets = 100): string[] {
  const errors: string[] = [];
  const tickets = plan.tickets;
  if (tickets.length === 0) errors.push('the plan has no tickets: add at least one');
  if (tickets.length > maxTickets)
    errors.push(`the plan has ${tickets.length} tickets; at most ${maxTickets} are allowed`);
  const ids = new Set<string>();
  for (const t of tickets) {
    if (ids.has(t.id)) errors.push(`ticket id ${t.id} is used more than once: give every ticket its own id`);
    ids.add(t.id);
    if (!roles.includes(t.role))
      errors.push(`ticket ${t.id} has role "${t.role}", which does not exist; use one of: ${roles.join(', ')}`);
  }
  for (const t of tickets) {
    for (const d of t.dependsOn) {
      if (d === t.id) errors.push(`ticket ${t.id} depends on itself`);
      else if (!ids.has(d)) errors.push(`ticket ${t.id} depends on ${d}, which is not in the plan`);
    }
  }
  const cycle = findCycle(tickets);
  if (cycle)
    errors.push(`the dependencies form a cycle: ${cycle.join(' -> ')}; a ticket may only depend on earlier work`);
  return errors;
}

/** One dependency cycle as a list of ids (first id repeated at the end), or undefined. */
export function findCycle(tickets: readonly GraphTicket[]): string[] | undefined {
  const deps = new Map(tickets.map((t) => [t.id, t.dependsOn.filter((d) => d !== t.id)]));
  const color = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    color.set(id, 'grey');
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const c = color.get(d);
      if (c === 'grey') return [...stack.slice(stack.indexOf(d)), d];
      if (c === undefined) {
        const found = visit(d);
        if (found) return found;
      }
    }
    stack.pop();
    color.set(id, 'black');
    return undefined;
  };
  for (const t of tickets) {
    if (!color.has(t.id)) {
      const found = visit(t.id);
      if (found) return found;
    }
  }
  return undefined;
}

/** Ids of pending tickets whose dependencies are all accepted, in plan order. */
export function readyTickets(tickets: readonly GraphTicket[], states: ReadonlyMap<string, TicketState>): string[] {
  return tickets
    .filter((t) => states.get(t.id) === 'pending' && t.dependsOn.every((d) => states.get(d) === 'accepted'))
    .map((t) => t.id);
}

const DEAD_END: ReadonlySet<TicketState> = new Set(['failed', 'escalated', 'blocked', 'skipped']);

/**
 * Pending tickets that can never start because a dependency (directly or transitively) ended
 * without being accepted. Returned in plan order.
 */
export function blockedTickets(tickets: readonly GraphTicket[], states: ReadonlyMap<string, TicketState>): string[] {
  const blocked = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const t of tickets) {
      if (states.get(t.id) !== 'pending' || blocked.has(t.id)) continue;
      if (t.dependsOn.some((d) => blocked.has(d) || DEAD_END.has(states.get(d) ?? 'pending'))) {
        blocked.add(t.id);
        changed = true;
      }
    }
  }
  return tickets.filter((t) => blocked.has(t.id)).map((t) => t.id);
}

/** Ticket ids in an order where every ticket comes after its dependencies (plan order kept where free). */
export function topologicalOrder(tickets: readonly GraphTicket[]): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const byId = new Map(tickets.map((t) => [t.id, t]));
  const visit = (id: string, seen: Set<string>) => {
    if (done.has(id) || seen.has(id)) return;
    seen.add(id);
    for (const d of byId.get(id)?.dependsOn ?? []) visit(d, seen);
    done.add(id);
    order.push(id);
  };
  for (const t of tickets) visit(t.id, new Set());
  return order;
}
