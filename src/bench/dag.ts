/**
 * Generated plans for the plan-graph benchmark and the scheduling loop of the orchestrator,
 * replayed without Temporal: recompute blocked and ready tickets, start up to maxParallel, finish
 * the oldest running ticket, repeat (src/workflows/scheduler.ts does the same on every change).
 */
import { DagTracker } from '../shared/dag-tracker';
import { blockedTickets, readyTickets } from '../shared/plan-graph';
import type { Ticket } from '../shared/schemas';
import type { TicketState } from '../shared/types';

/** Plan shapes: `layered` is the simulated LLM's `[sim:tickets=N]` plan, `random` a seeded random DAG. */
export type DagShape = 'layered' | 'random';

/** The shapes the benchmark runs, in order. */
export const DAG_SHAPES: readonly DagShape[] = ['layered', 'random'];

/** Roles the generated tickets use (the default roles). */
export const DAG_ROLES: readonly string[] = ['designer', 'writer', 'coder', 'tester'];

/** Width of a layer in the `layered` shape (as in the simulated LLM). */
const LAYER_WIDTH = 4;
/** In the `random` shape, a ticket depends on 0–3 of the previous RANDOM_WINDOW tickets. */
const RANDOM_WINDOW = 20;

/** A plan of `n` tickets of the given shape; the same arguments always give the same plan. */
export function generateDag(shape: DagShape, n: number, seed = 1): Ticket[] {
  const next = mulberry32(seed);
  const tickets: Ticket[] = [];
  for (let i = 0; i < n; i++) {
    let deps: number[];
    if (shape === 'layered') {
      deps = i < LAYER_WIDTH ? [] : [i - LAYER_WIDTH];
    } else {
      const count = Math.floor(next() * 4);
      const lo = Math.max(0, i - RANDOM_WINDOW);
      const picked = new Set<number>();
      for (let k = 0; k < count && i > 0; k++) picked.add(lo + Math.floor(next() * (i - lo)));
      deps = [...picked].sort((a, b) => a - b);
    }
    tickets.push({
      id: `T${i + 1}`,
      role: DAG_ROLES[i % DAG_ROLES.length] ?? 'writer',
      title: `Part ${i + 1} of ${n}`,
      spec: `Produce part ${i + 1} of ${n}.`,
      acceptanceCriteria: [`part ${i + 1} exists`],
      dependsOn: deps.map((d) => `T${d + 1}`),
    });
  }
  return tickets;
}

/** What one full schedule did. */
export interface ScheduleOutcome {
  /** Loop rounds (one per finished ticket, as the workflow wakes up once per change). */
  rounds: number;
  /** Most tickets running at once. */
  peakParallel: number;
}

/** How a schedule finds blocked and ready tickets: whole-plan rescans or the incremental tracker. */
export type ScheduleMode = 'rescan' | 'incremental';

/**
 * Schedules every ticket to `accepted`, exactly as the orchestrator's loop decides (tickets
 * finish in start order). Throws when a ticket can never run, which a valid plan rules out.
 * `incremental` is what the orchestrator does (DagTracker); `rescan` what it did before.
 */
export function scheduleAll(
  tickets: readonly Ticket[],
  maxParallel: number,
  mode: ScheduleMode = 'incremental',
): ScheduleOutcome {
  const states = new Map<string, TicketState>(tickets.map((t) => [t.id, 'pending']));
  const dag = mode === 'incremental' ? new DagTracker(tickets, states) : undefined;
  const set = (id: string, s: TicketState) => {
    states.set(id, s);
    dag?.set(id, s);
  };
  const running: string[] = [];
  let rounds = 0;
  let peakParallel = 0;
  for (;;) {
    for (const id of dag ? dag.blocked() : blockedTickets(tickets, states)) set(id, 'blocked');
    const free = Math.max(0, maxParallel - running.length);
    const ready = dag ? dag.ready(free) : readyTickets(tickets, states);
    for (const id of ready.slice(0, free)) {
      set(id, 'running');
      running.push(id);
    }
    peakParallel = Math.max(peakParallel, running.length);
    const done = running.shift();
    if (done === undefined) break;
    set(done, 'accepted');
    rounds++;
  }
  const left = [...states].filter(([, s]) => s !== 'accepted');
  if (left.length > 0)
    throw new Error(`scheduling stopped with ${left.length} ticket(s) not accepted, e.g. ${left[0]?.[0]}`);
  return { rounds, peakParallel };
}

/** A small, fast, seeded PRNG (mulberry32), so generated plans are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
