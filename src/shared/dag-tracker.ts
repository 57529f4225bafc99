/**
 * Incremental scheduling over a plan's DAG: which pending tickets are ready (every dependency
 * accepted) and which can never start (a dependency ended without being accepted), kept up to
 * date per state change instead of rescanning the whole plan on every event. The orchestrator's
 * loop wakes once per change, so rescans made a run quadratic in its plan size; with this the
 * work per change is proportional to the tickets it touches. Answers are the same as
 * `readyTickets`/`blockedTickets` in plan-graph.ts (tested against them), in plan order, so a
 * replayed history starts its children in the order it recorded. Pure and deterministic.
 */
import type { GraphTicket } from './plan-graph';
import type { TicketState } from './types';

const DEAD_END: ReadonlySet<TicketState> = new Set(['failed', 'escalated', 'blocked', 'skipped']);

/** Ready and blocked tickets of one plan, updated per state change. */
export class DagTracker {
  private readonly index = new Map<string, number>();
  private readonly dependents = new Map<string, string[]>();
  private readonly deps = new Map<string, readonly string[]>();
  private readonly states = new Map<string, TicketState>();
  /** Dependencies (with repeats, as listed) not accepted yet, per ticket. */
  private readonly unaccepted = new Map<string, number>();
  private readonly readySet = new Set<string>();
  /** Plan indexes of ready tickets (a min-heap; entries of tickets no longer ready are skipped). */
  private readonly readyHeap: number[] = [];
  private readonly ids: string[] = [];
  /** Dead-end tickets whose dependents have not been blocked yet. */
  private readonly deadCandidates: string[] = [];
  /** Tickets waiting at a gate: undecided, so their dependents must not be blocked yet. */
  private readonly held = new Set<string>();

  constructor(tickets: readonly GraphTicket[], states: ReadonlyMap<string, TicketState>) {
    tickets.forEach((t, i) => {
      this.index.set(t.id, i);
      this.ids.push(t.id);
      this.deps.set(t.id, t.dependsOn);
      this.dependents.set(t.id, []);
      this.states.set(t.id, states.get(t.id) ?? 'pending');
    });
    for (const t of tickets) {
      for (const d of t.dependsOn) this.dependents.get(d)?.push(t.id);
      this.unaccepted.set(t.id, t.dependsOn.filter((d) => this.states.get(d) !== 'accepted').length);
    }
    for (const t of tickets) this.refresh(t.id);
  }

  /** Records that ticket `id` moved to `to` (unknown ids are ignored). */
  set(id: string, to: TicketState): void {
    const from = this.states.get(id);
    if (from === undefined || from === to) return;
    this.states.set(id, to);
    if ((from === 'accepted') !== (to === 'accepted')) {
      const delta = to === 'accepted' ? -1 : 1;
      for (const d of this.dependents.get(id) ?? []) {
        this.unaccepted.set(d, (this.unaccepted.get(d) ?? 0) + delta);
        this.refresh(d);
      }
    }
    this.refresh(id);
  }

  /** Marks a ticket as waiting at a gate (true) or decided (false). */
  hold(id: string, atGate: boolean): void {
    if (atGate) this.held.add(id);
    else if (this.held.delete(id)) this.refresh(id);
  }

  /**
   * Pending tickets that can never start because a dependency (directly or transitively) ended
   * without being accepted, in plan order. The tracker counts them as blocked at once; the caller
   * marks them so (its `set` calls are then no-ops).
   */
  blocked(): string[] {
    const out: string[] = [];
    const waiting: string[] = [];
    while (this.deadCandidates.length > 0) {
      const id = this.deadCandidates.pop()!;
      const s = this.states.get(id);
      if (s === undefined || !DEAD_END.has(s)) continue;
      // At a gate: reconsidered when its decision changes its state or releases it.
      if (this.held.has(id)) {
        waiting.push(id);
        continue;
      }
      for (const d of this.dependents.get(id) ?? []) {
        if (this.states.get(d) !== 'pending') continue;
        this.set(d, 'blocked');
        out.push(d);
      }
    }
    this.deadCandidates.push(...waiting);
    return this.inPlanOrder(out);
  }

  /**
   * The first `limit` pending tickets whose dependencies are all accepted, in plan order; the
   * cost grows with `limit`, not with the plan or the number of ready tickets.
   */
  ready(limit = Infinity): string[] {
    const out: number[] = [];
    const taken = new Set<number>();
    while (out.length < limit && this.readyHeap.length > 0) {
      const i = heapPop(this.readyHeap);
      if (taken.has(i) || !this.readySet.has(this.ids[i]!)) continue; // stale or repeated entry
      taken.add(i);
      out.push(i);
    }
    for (const i of out) heapPush(this.readyHeap, i);
    return out.map((i) => this.ids[i]!);
  }

  private refresh(id: string): void {
    const s = this.states.get(id);
    if (s === 'pending' && (this.unaccepted.get(id) ?? 0) === 0) {
      if (!this.readySet.has(id)) heapPush(this.readyHeap, this.index.get(id)!);
      this.readySet.add(id);
    } else this.readySet.delete(id);
    if (s !== undefined && DEAD_END.has(s)) this.deadCandidates.push(id);
  }

  private inPlanOrder(ids: string[]): string[] {
    return ids.sort((a, b) => (this.index.get(a) ?? 0) - (this.index.get(b) ?? 0));
  }
}

function heapPush(heap: number[], value: number): void {
  heap.push(value);
  for (let i = heap.length - 1; i > 0;) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= heap[i]!) break;
    [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
    i = parent;
  }
}

function heapPop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  heap[0] = last;
  for (let i = 0; ;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && heap[l]! < heap[m]!) m = l;
    if (r < heap.length && heap[r]! < heap[m]!) m = r;
    if (m === i) break;
    [heap[m], heap[i]] = [heap[i]!, heap[m]!];
    i = m;
  }
  return top;
}
