/**
 * Benchmark of whole runs: `Bench [sim:tickets=N]` goals (and the demo's website goal) through
 * the orchestrator and ticket workflows on a real in-memory Temporal dev server, with the real
 * activities calling the simulated LLM (latency 0). Wall time per ticket, LLM calls, this
 * process's memory, and history bytes per ticket next to the file bytes they refer to.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { historyFootprint, type HistoryFootprint } from './claim-check';
import { startRunEnv, type RunEnv } from './run-env';
import { median, memorySnapshot, processRssMb, round, type MemorySnapshot } from './stats';
import type { Table } from './table';
import type { BenchContext, BenchSection, SectionReport } from './types';

const MAX_PARALLEL = 10;
const WEBSITE_GOAL = 'Build a landing page for a coffee shop called Bean There';

/** A goal to run `reps` times; `label` names its row. */
interface Case {
  label: string;
  goal: string;
  reps: number;
}

/** One measured run. */
interface RunSample {
  tickets: number;
  status: string;
  wallMs: number;
  llmCalls: number;
  history: HistoryFootprint;
  after: MemorySnapshot;
  serverRssMb?: number;
}

interface MemoryRow {
  label: string;
  mem: MemorySnapshot;
  serverRssMb?: number;
}

/** The run section. */
export const runSection: BenchSection = {
  name: 'run',
  title: `whole runs on an in-memory Temporal dev server, in-process worker, simulated LLM (maxParallel ${MAX_PARALLEL})`,
  run,
};

function cases(quick: boolean): Case[] {
  const sized = (n: number, reps: number): Case => ({ label: String(n), goal: `Bench [sim:tickets=${n}]`, reps });
  const website: Case = { label: 'website', goal: WEBSITE_GOAL, reps: 1 };
  return quick ? [sized(4, 1), sized(20, 1), website] : [sized(4, 3), sized(20, 3), sized(60, 2), website];
}

async function run(ctx: BenchContext): Promise<SectionReport> {
  const plan = cases(ctx.quick);
  const memory: MemoryRow[] = [{ label: 'section start', mem: memorySnapshot() }];
  const env = await startRunEnv(ctx);
  try {
    memory.push({ label: 'worker started', mem: memorySnapshot(), serverRssMb: processRssMb(env.server.pid) });
    ctx.log('run: warm-up run (2 tickets, not reported)');
    const warmup = await runOnce(env, 'Bench warm-up [sim:tickets=2]', 'warmup');
    memory.push({ label: 'after warm-up', mem: warmup.after, serverRssMb: warmup.serverRssMb });
    const samples = new Map<string, RunSample[]>();
    for (const c of plan) {
      for (let rep = 1; rep <= c.reps; rep++) {
        ctx.log(`run: ${c.goal}, run ${rep} of ${c.reps}`);
        const s = await runOnce(env, c.goal, `${c.label}-${rep}`);
        samples.set(c.label, [...(samples.get(c.label) ?? []), s]);
        memory.push({ label: `after ${c.label} #${rep}`, mem: s.after, serverRssMb: s.serverRssMb });
        ctx.log(`run: ${s.tickets} tickets in ${(s.wallMs / 1000).toFixed(2)} s (${s.status})`);
      }
    }
    return report(env, plan, samples, memory, warmup.wallMs);
  } finally {
    await env.stop();
  }
}

async function runOnce(env: RunEnv, goal: string, tag: string): Promise<RunSample> {
  env.sim.clearRequests();
  const t0 = performance.now();
  const runId = await env.maestro.start(goal, {
    runId: `bench-${tag}-${randomBytes(3).toString('hex')}`,
    maxParallel: MAX_PARALLEL,
    roles: DEFAULT_ROLES.map(roleInfoOf),
  });
  const result = await env.maestro.result(runId);
  if (result.status === 'cancelled') throw new Error(`bench run ${runId} was cancelled`);
  const wallMs = performance.now() - t0;
  env.sim.clearRequests(); // the request log holds every prompt: keep it out of the memory numbers
  const after = memorySnapshot();
  return {
    tickets: result.tickets.length,
    status: result.status,
    wallMs,
    llmCalls: result.cost.usage.calls,
    history: await historyFootprint(env.client, result),
    after,
    serverRssMb: processRssMb(env.server.pid),
  };
}

function report(
  env: RunEnv,
  plan: Case[],
  samples: Map<string, RunSample[]>,
  memory: MemoryRow[],
  warmupMs: number,
): SectionReport {
  const groups = plan.map((c) => {
    const runs = samples.get(c.label) ?? [];
    const last = runs[runs.length - 1];
    const n = last?.tickets ?? 0;
    const wall = median(runs.map((r) => r.wallMs));
    const statuses = [...new Set(runs.map((r) => r.status))].join(',');
    return { label: c.label, n, runs, last, wall, msPerTicket: wall / Math.max(1, n), statuses };
  });
  const sized = groups.filter((g) => g.label !== 'website');
  const [first, second] = [sized[0], sized[sized.length - 1]];
  const growth = (second?.msPerTicket ?? NaN) / (first?.msPerTicket ?? NaN);
  const [a, b] = [sized[sized.length - 2], sized[sized.length - 1]];
  const marginal =
    ((b?.last?.history.jsonBytes ?? NaN) - (a?.last?.history.jsonBytes ?? NaN)) / ((b?.n ?? 0) - (a?.n ?? 0));
  const kb = (bytes: number) => bytes / 1024;
  const tables: Table[] = [
    {
      title: 'run: speed (median wall time from start to result: plan, tickets with reviews, final report)',
      columns: ['goal', 'tickets', 'runs', 'wall s', 'min s', 'ms/ticket', 'tickets/s', 'LLM calls', 'status'],
      rows: groups.map((g) => [
        g.label === 'website' ? 'website' : 'sim:tickets',
        g.n,
        g.runs.length,
        g.wall / 1000,
        Math.min(...g.runs.map((r) => r.wallMs)) / 1000,
        g.msPerTicket,
        g.n / (g.wall / 1000),
        g.last?.llmCalls ?? 0,
        g.statuses,
      ]),
      notes: [
        `ms/ticket ${first?.n ?? '?'} -> ${second?.n ?? '?'} tickets: x${round(growth)} ` +
          '(below 1: fixed costs of a run are spread; above 1: per-ticket cost grows with the run).',
        'website = the demo goal (4 tickets, one review sends the coder back once, bigger files).',
        `worker: ${env.bundle} workflow bundle, created in ${Math.round(env.startupMs.worker)} ms; dev server up in ` +
          `${Math.round(env.startupMs.server)} ms; warm-up run ${Math.round(warmupMs)} ms.`,
      ],
    },
    {
      title: 'run: history size (claim check: files stay in the artifact store, histories carry refs)',
      columns: [
        'goal',
        'tickets',
        'events',
        'hist KB',
        'hist B/ticket',
        'proto B/ticket',
        'child hist KB',
        'file B/ticket',
        'files in hist',
      ],
      rows: groups.map((g) => {
        const h = g.last?.history;
        const per = (bytes = 0) => bytes / Math.max(1, g.n);
        return [
          g.label === 'website' ? 'website' : 'sim:tickets',
          g.n,
          h?.events ?? 0,
          kb(h?.jsonBytes ?? 0),
          per(h?.jsonBytes),
          per(h?.protoBytes),
          kb(h?.childJsonBytesMean ?? 0),
          per(h?.artifactBytes),
          `${h?.filesInHistory ?? '?'}/${h?.filesChecked ?? '?'}`,
        ];
      }),
      notes: [
        'hist = the orchestrator workflow history as JSON (fetchHistory); proto = its protobuf size; child hist = mean',
        'JSON history of one ticket workflow; file B/ticket = bytes of files produced; files in hist = files whose',
        'content was found in any history of the run (0 = only refs travel through Temporal).',
        `marginal history per extra ticket (${a?.n ?? '?'} -> ${b?.n ?? '?'} tickets): ${Math.round(marginal)} B JSON.`,
      ],
    },
    {
      title: 'run: memory of this process (worker + client + simulated LLM) and of the dev server',
      columns: ['when', 'RSS MB', 'heap used MB', 'heap total MB', 'external MB', 'server RSS MB'],
      rows: memory.map((m) => [
        m.label,
        m.mem.rssMb,
        m.mem.heapUsedMb,
        m.mem.heapTotalMb,
        m.mem.externalMb,
        m.serverRssMb ?? '-',
      ]),
      notes: [
        memory[0]?.mem.afterGc
          ? 'heap measured after a full GC (node --expose-gc); RSS also holds the SDK core and workflow sandboxes.'
          : 'heap includes garbage: run with node --expose-gc for post-GC numbers.',
      ],
    },
  ];
  return {
    tables,
    summary: {
      maxParallel: MAX_PARALLEL,
      bundle: env.bundle,
      startupMs: { server: Math.round(env.startupMs.server), worker: Math.round(env.startupMs.worker) },
      warmupMs: Math.round(warmupMs),
      runs: groups.map((g) => ({
        goal: g.label === 'website' ? 'website' : `sim:tickets=${g.label}`,
        tickets: g.n,
        status: g.statuses,
        wallMsMedian: Math.round(g.wall),
        wallMs: g.runs.map((r) => Math.round(r.wallMs)),
        msPerTicket: round(g.msPerTicket, 1),
        llmCalls: g.last?.llmCalls,
        history: g.last ? { ...g.last.history, childJsonBytesMean: Math.round(g.last.history.childJsonBytesMean) } : {},
        historyJsonBytesPerTicket: Math.round((g.last?.history.jsonBytes ?? 0) / Math.max(1, g.n)),
      })),
      msPerTicketGrowth: round(growth),
      marginalHistoryJsonBytesPerTicket: Math.round(marginal),
      memory: memory.map((m) => ({ when: m.label, ...m.mem, serverRssMb: m.serverRssMb })),
    },
  };
}
