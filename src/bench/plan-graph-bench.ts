/**
 * Benchmark of the plan DAG code the orchestrator runs in its workflow: validatePlan and the
 * scheduling loop over generated plans of 10, 100 and 1000 tickets, with the growth from 100 to
 * 1000 tickets stated as an exponent (1 = linear, 2 = quadratic).
 */
import { validatePlan } from '../shared/plan-graph';
import { DAG_ROLES, DAG_SHAPES, generateDag, scheduleAll } from './dag';
import { round, timeSync } from './stats';
import type { Table } from './table';
import type { BenchContext, BenchSection, SectionReport } from './types';

const SIZES = [10, 100, 1000] as const;
const MAX_PARALLEL = 10;

interface Row {
  shape: string;
  tickets: number;
  edges: number;
  peakParallel: number;
  validateUs: number;
  scheduleUs: number;
  /** The same schedule with whole-plan rescans per change (the orchestrator before DagTracker). */
  rescanUs: number;
  totalUs: number;
}

/** The plan-graph section. */
export const planGraphSection: BenchSection = {
  name: 'plan-graph',
  title: `validatePlan + scheduling loop (DagTracker vs whole-plan rescans, maxParallel ${MAX_PARALLEL}) over generated DAGs`,
  run,
};

async function run(ctx: BenchContext): Promise<SectionReport> {
  const timing = ctx.quick ? { minBatchMs: 20, batches: 5 } : { minBatchMs: 100, batches: 9 };
  const rows: Row[] = [];
  for (const shape of DAG_SHAPES) {
    for (const n of SIZES) {
      ctx.log(`plan-graph: ${shape} ${n} tickets`);
      const tickets = generateDag(shape, n);
      const plan = { tickets };
      const errors = validatePlan(plan, DAG_ROLES, n);
      if (errors.length > 0) throw new Error(`generated ${shape} plan of ${n} tickets is invalid: ${errors[0]}`);
      const { peakParallel } = scheduleAll(tickets, MAX_PARALLEL);
      const validate = timeSync(() => void validatePlan(plan, DAG_ROLES, n), timing);
      const schedule = timeSync(() => void scheduleAll(tickets, MAX_PARALLEL), timing);
      const rescan = timeSync(() => void scheduleAll(tickets, MAX_PARALLEL, 'rescan'), timing);
      rows.push({
        shape,
        tickets: n,
        edges: tickets.reduce((s, t) => s + t.dependsOn.length, 0),
        peakParallel,
        validateUs: validate.medianUs,
        scheduleUs: schedule.medianUs,
        rescanUs: rescan.medianUs,
        totalUs: validate.medianUs + schedule.medianUs,
      });
      await new Promise((resolve) => setImmediate(resolve)); // let progress output flush
    }
  }

  const growth = DAG_SHAPES.map((shape) => {
    const at = (n: number) => rows.find((r) => r.shape === shape && r.tickets === n);
    const ratio = (a: number, b: number, key: 'validateUs' | 'scheduleUs' | 'totalUs') =>
      (at(b)?.[key] ?? NaN) / (at(a)?.[key] ?? NaN);
    return {
      shape,
      validate: ratio(100, 1000, 'validateUs'),
      schedule: ratio(100, 1000, 'scheduleUs'),
      total: ratio(100, 1000, 'totalUs'),
      total10to100: ratio(10, 100, 'totalUs'),
    };
  });

  const tables: Table[] = [
    {
      title: 'plan-graph: µs per full schedule (median of batches)',
      columns: [
        'shape',
        'tickets',
        'edges',
        'peak parallel',
        'validate µs',
        'schedule µs',
        'total µs',
        'µs/ticket',
        'rescan µs',
      ],
      rows: rows.map((r) => [
        r.shape,
        r.tickets,
        r.edges,
        r.peakParallel,
        r.validateUs,
        r.scheduleUs,
        r.totalUs,
        r.totalUs / r.tickets,
        r.rescanUs,
      ]),
      notes: [
        'one loop round per finished ticket; schedule = incremental ready/blocked sets (DagTracker, what the',
        'orchestrator runs); rescan = the same loop recomputing them over the whole plan each round (before).',
      ],
    },
    {
      title: 'plan-graph: growth 100 -> 1000 tickets (10x more tickets)',
      columns: ['shape', 'validate x', 'schedule x', 'total x', 'exponent', 'total x 10->100'],
      rows: growth.map((g) => [g.shape, g.validate, g.schedule, g.total, Math.log10(g.total), g.total10to100]),
      notes: ['exponent = log10(total x): 1 means linear, 2 quadratic in the number of tickets.'],
    },
  ];
  return {
    tables,
    summary: {
      maxParallel: MAX_PARALLEL,
      rows: rows.map((r) => ({
        ...r,
        validateUs: round(r.validateUs),
        scheduleUs: round(r.scheduleUs),
        rescanUs: round(r.rescanUs),
        totalUs: round(r.totalUs),
      })),
      growth100to1000: growth.map((g) => ({
        shape: g.shape,
        validate: round(g.validate),
        schedule: round(g.schedule),
        total: round(g.total),
        exponent: round(Math.log10(g.total)),
      })),
    },
  };
}
