/** Hand-made run statuses for the pure client views (watch screen, JSON events, follow lines). */
import type { TicketProgress } from '../../src/shared/messages';
import type { GateView, RunStatus, TicketState, TicketView } from '../../src/shared/types';
import { emptyUsage, type Usage } from '../../src/shared/usage';

/** Usage of `calls` simulated calls. */
export function usage(tokens: number, usd: number, calls = 2): Usage {
  return {
    ...emptyUsage(),
    promptTokens: Math.round(tokens * 0.8),
    completionTokens: Math.round(tokens * 0.2),
    usd,
    calls,
  };
}

/** A ticket in `state`; finished tickets carry attempts and cost like the orchestrator reports them. */
export function ticket(id: string, state: TicketState, extra: Partial<TicketView> = {}): TicketView {
  const done = state === 'accepted' || state === 'escalated';
  return {
    id,
    role: 'writer',
    title: `Write guide ${id}`,
    state,
    dependsOn: [],
    attempts: done ? 1 : 0,
    childId: `run-1/${id}`,
    usage: done ? usage(1000, 0.002) : emptyUsage(),
    ...extra,
  };
}

/** A run status with sensible defaults. */
export function status(extra: Partial<RunStatus> = {}): RunStatus {
  const tickets = extra.tickets ?? [];
  const tokens = tickets.reduce((n, t) => n + t.usage.promptTokens + t.usage.completionTokens, 0);
  const usd = tickets.reduce((n, t) => n + t.usage.usd, 0);
  return {
    runId: 'run-1',
    goal: 'Write a set of short guides',
    phase: 'executing',
    planSummary: 'Twelve short guides, one per ticket',
    planAttempts: 1,
    tickets,
    pendingGates: [],
    cost: { usd, tokens, usage: emptyUsage(), byRole: {} },
    audit: [],
    ...extra,
  };
}

/** A pending plan gate as the orchestrator shows it. */
export function planGate(extra: Partial<GateView> = {}): GateView {
  return {
    id: 'plan#1',
    kind: 'plan',
    reason: 'The plan has 4 tickets; approve it to start them',
    openedAt: '2026-11-25T13:00:05.000Z',
    onTimeout: 'wait',
    state: 'pending',
    ...extra,
  };
}

/** Live progress of a running ticket child. */
export function progress(ticketId: string, attempt: number, stage: TicketProgress['stage']): TicketProgress {
  return {
    ticketId,
    attempt,
    stage,
    reviews: [],
    workUsage: usage(800, 0.0015, 1),
    reviewUsage: emptyUsage(),
  };
}
