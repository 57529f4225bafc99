/**
 * Benchmark of a run through sub-Bosses (issue 12): a plan of 10 epics of 100 independent tickets
 * (1,000 tickets; 10 × 20 with --quick) on the run section's environment, at LLM latency L = 0 and
 * L = 1 s. Opt-in (`npm run bench -- --only epics`): it takes minutes. Prints wall time, tickets/s
 * and the ratio to the ideal wall time of the same shape and parallelism.
 */
import { randomBytes } from 'node:crypto';
import { ticketWorkflowId } from '../shared/constants';
import { DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { startRunEnv, type RunEnv } from './run-env';
import { round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

const MAX_PARALLEL = 10;

/** One measured run through sub-Bosses. */
interface EpicSample {
  latencyMs: number;
  epics: number;
  perEpic: number;
  accepted: number;
  status: string;
  wallMs: number;
  idealMs: number;
  llmCalls: number;
}

/** The epics section (opt-in). */
export const epicsSection: BenchSection = {
  name: 'epics',
  title: `a run of 10 epics × 100 tickets through sub-Bosses at L = 0 and 1 s (maxParallel ${MAX_PARALLEL} per level; opt-in)`,
  optIn: true,
  run,
};

/**
 * Wall time of the shape if Maestro and Temporal cost nothing: the top plan, then waves of at
 * most `parallel` epics, each a sub-plan, waves of `parallel` tickets (work + review) and a
 * sub-report, then the top report.
 */
export function idealEpicsMs(latencyMs: number, epics: number, perEpic: number, parallel: number): number {
  const epic = 1 + Math.ceil(perEpic / parallel) * 2 + 1;
  return latencyMs * (1 + Math.ceil(epics / parallel) * epic + 1);
}

async function run(ctx: BenchContext): Promise<SectionReport> {
  const perEpic = ctx.quick ? 20 : 100;
  const latencies = [0, 1000];
  const env = await startRunEnv(ctx);
  const samples: EpicSample[] = [];
  try {
    for (const latencyMs of latencies) {
      ctx.log(`epics: 10 epics × ${perEpic} tickets at L = ${latencyMs} ms`);
      const s = await runOnce(env, 10, perEpic, latencyMs);
      ctx.log(`epics: ${s.accepted} tickets accepted in ${(s.wallMs / 1000).toFixed(1)} s (${s.status})`);
      samples.push(s);
    }
  } finally {
    await env.stop();
  }
  return {
    tables: [
      {
        title: 'epics: 1 top Boss, 10 sub-Bosses, independent tickets (plan, work + review per ticket, reports)',
        columns: ['L ms', 'tickets', 'accepted', 'wall s', 'tickets/s', 'ms/ticket', 'ideal s', 'x ideal', 'LLM calls'],
        rows: samples.map((s) => [
          s.latencyMs,
          s.epics * s.perEpic,
          s.accepted,
          s.wallMs / 1000,
          (s.epics * s.perEpic) / (s.wallMs / 1000),
          s.wallMs / (s.epics * s.perEpic),
          s.idealMs / 1000,
          s.idealMs > 0 ? s.wallMs / s.idealMs : '-',
          s.llmCalls,
        ]),
        notes: [
          `ideal = L × (top plan + ceil(epics/${MAX_PARALLEL}) × (sub-plan + ceil(tickets/${MAX_PARALLEL}) × (work + review) + sub-report) + top report).`,
          'At L = 0 the ideal is 0: ms/ticket is then Maestro + Temporal overhead alone.',
        ],
      },
    ],
    summary: {
      maxParallel: MAX_PARALLEL,
      runs: samples.map((s) => ({
        ...s,
        wallMs: Math.round(s.wallMs),
        ticketsPerSecond: round((s.epics * s.perEpic) / (s.wallMs / 1000), 2),
        ratioToIdeal: s.idealMs > 0 ? round(s.wallMs / s.idealMs, 2) : null,
      })),
    },
  };
}

async function runOnce(env: RunEnv, epics: number, perEpic: number, latencyMs: number): Promise<EpicSample> {
  env.sim.clearRequests();
  env.sim.clearFaults();
  if (latencyMs > 0) env.sim.injectFault({ kind: 'latency', latencyMs, times: 1_000_000 });
  const t0 = performance.now();
  const runId = await env.maestro.start(
    `Bench epics [sim:epics=${epics}] [sim:tickets=${perEpic}] [sim:width=${perEpic}]`,
    {
      runId: `bench-epics-${latencyMs}-${randomBytes(3).toString('hex')}`,
      maxParallel: MAX_PARALLEL,
      roles: DEFAULT_ROLES.map(roleInfoOf),
      epics: true,
    },
  );
  const result = await env.maestro.result(runId);
  const wallMs = performance.now() - t0;
  env.sim.clearFaults();
  env.sim.clearRequests();
  let accepted = 0;
  for (const epic of result.tickets) {
    const sub = await env.maestro.result(ticketWorkflowId(runId, epic.id));
    accepted += sub.tickets.filter((t) => t.state === 'accepted').length;
  }
  return {
    latencyMs,
    epics,
    perEpic,
    accepted,
    status: result.status,
    wallMs,
    idealMs: idealEpicsMs(latencyMs, epics, perEpic, MAX_PARALLEL),
    llmCalls: result.cost.usage.calls,
  };
}
