/**
 * Maestro against the engine's floor: the same dev server as `maestro dev` (SQLite file, its
 * pragmas), the simulated LLM with a fixed latency L per call, and a bare Temporal run of the
 * same shape (bare-workflows.ts) on the same server in the same process. For N independent
 * tickets the ideal wall time is 4 × L (plan, work, review, final report), so the ratios say how
 * much of a run's time is Maestro's own, how much Temporal's, and how much the LLM's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { MaestroClient } from '../client/api';
import type { DevServer } from '../dev/dev-server';
import { startSimLlm, type SimLlm } from '../dev/sim-llm';
import { DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { createMaestroWorker } from '../workers/create-worker';
import { createBareActivities } from './bare-activities';
import { breakdownOf, breakdownTable, cpuMeter, type BreakdownRow, type RunCpu } from './floor-breakdown';
import type { bareRunWorkflow } from './bare-workflows';
import { benchDeps, findCli, installRuntime, startBenchDevServer } from './run-env';
import { median, round } from './stats';
import type { Table } from './table';
import type { BenchContext, BenchSection, SectionReport } from './types';

/** One measured shape. */
interface Shape {
  tickets: number;
  latencyMs: number;
}

/** What one run of one kind took. */
interface Sample {
  wallMs: number;
  peakRssMb: number;
  status: string;
  cpu: RunCpu;
  workflowId: string;
}

type Kind = 'bare' | 'maestro' | 'maestro+budget';

/** The floor section. */
export const floorSection: BenchSection = {
  name: 'floor',
  title: 'Maestro vs a bare Temporal run of the same shape vs the ideal (SQLite dev server as `maestro dev` runs it)',
  run,
};

function shapes(quick: boolean): Shape[] {
  const sizes = quick ? [20] : [20, 100];
  return sizes.flatMap((tickets) => [0, 1000].map((latencyMs) => ({ tickets, latencyMs })));
}

/** A Maestro worker whose LLM is a simulated server with a fixed latency. */
interface MaestroLane {
  sim: SimLlm;
  maestro: MaestroClient;
  worker: Worker;
  running: Promise<void>;
}

async function run(ctx: BenchContext): Promise<SectionReport> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => ctx.log(`floor: ${(err as Error).message}`));
  };
  try {
    installRuntime();
    const cli = await findCli(ctx);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-floor-'));
    stops.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    ctx.log('floor: starting a dev server on a SQLite file, as `maestro dev` does');
    const server: DevServer = await startBenchDevServer({ cliPath: cli.path, dir, section: 'floor' });
    stops.push(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    stops.push(() => nativeConnection.close());
    const client = new Client({ connection });

    ctx.log('floor: bundling the bare baseline workflows');
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./bare-workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const bareQueue = `bench-bare-${randomBytes(3).toString('hex')}`;
    const bare = await Worker.create({
      connection: nativeConnection,
      taskQueue: bareQueue,
      workflowBundle: { code },
      activities: createBareActivities(),
    });
    const bareRunning = bare.run();
    stops.push(async () => {
      bare.shutdown();
      await bareRunning;
    });

    const lanes = new Map<number, MaestroLane>();
    for (const latencyMs of [...new Set(shapes(ctx.quick).map((s) => s.latencyMs))]) {
      const lane = await startLane(ctx, client, nativeConnection, latencyMs, dir);
      stops.push(async () => {
        lane.worker.shutdown();
        await lane.running;
        await lane.sim.close();
      });
      lanes.set(latencyMs, lane);
    }

    ctx.log('floor: warm-up (bare and Maestro, 2 tickets, not reported)');
    await runBare(client, bareQueue, { tickets: 2, latencyMs: 0 }, server.pid);
    await runMaestro(lanes.get(0)!, { tickets: 2, latencyMs: 0 }, false, server.pid);

    const results: { shape: Shape; samples: Record<Kind, Sample[]> }[] = [];
    const breakdown: BreakdownRow[] = [];
    const largest = Math.max(...shapes(ctx.quick).map((s) => s.tickets));
    const reps = ctx.quick ? 1 : 2;
    for (const shape of shapes(ctx.quick)) {
      const lane = lanes.get(shape.latencyMs)!;
      const samples: Record<Kind, Sample[]> = { bare: [], maestro: [], 'maestro+budget': [] };
      for (let rep = 0; rep < reps; rep++) {
        // Interleaved, so drift on a noisy machine hits every kind alike.
        samples.bare.push(await runBare(client, bareQueue, shape, server.pid));
        samples.maestro.push(await runMaestro(lane, shape, false, server.pid));
        samples['maestro+budget'].push(await runMaestro(lane, shape, true, server.pid));
        ctx.log(
          `floor: N=${shape.tickets} L=${shape.latencyMs}ms #${rep + 1}: bare ${ms(samples.bare)} ms, ` +
            `maestro ${ms(samples.maestro)} ms, budgeted ${ms(samples['maestro+budget'])} ms`,
        );
      }
      results.push({ shape, samples });
      if (shape.tickets !== largest) continue;
      for (const kind of ['bare', 'maestro', 'maestro+budget'] as const) {
        const last = samples[kind][samples[kind].length - 1]!;
        breakdown.push(await breakdownOf(client, { kind, ...shape, ...last }));
      }
    }
    const rep = report(results, reps);
    return { ...rep, tables: [...rep.tables, breakdownTable(breakdown)] };
  } finally {
    await stopAll();
  }
}

function ms(samples: Sample[]): number {
  return Math.round(samples[samples.length - 1]?.wallMs ?? NaN);
}

async function startLane(
  ctx: BenchContext,
  client: Client,
  nativeConnection: NativeConnection,
  latencyMs: number,
  dir: string,
): Promise<MaestroLane> {
  const sim = await startSimLlm({ port: 0, latencyMs, maxRecords: 1000 });
  const taskQueue = `bench-floor-${latencyMs}-${randomBytes(3).toString('hex')}`;
  const artifactDir = mkdtempSync(path.join(dir, `artifacts-${latencyMs}-`));
  const worker = await createMaestroWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundlePath: path.join(ctx.repoRoot, 'dist', 'workflow-bundle.js'),
    deps: benchDeps(sim.baseUrl, artifactDir),
  });
  return { sim, worker, running: worker.run(), maestro: new MaestroClient(client, taskQueue) };
}

/** Samples this process's RSS (worker, client and simulated LLM) and counts CPU while `fn` runs. */
async function withPeakRss(
  serverPid: number,
  workflowId: string,
  fn: (workflowId: string) => Promise<string>,
): Promise<Sample> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const cpu = cpuMeter(serverPid);
  const t0 = performance.now();
  try {
    const status = await fn(workflowId);
    const wallMs = performance.now() - t0;
    return { wallMs, peakRssMb: round(peak / (1024 * 1024), 1), status, cpu: cpu(), workflowId };
  } finally {
    clearInterval(timer);
  }
}

function runBare(client: Client, taskQueue: string, shape: Shape, serverPid: number): Promise<Sample> {
  return withPeakRss(serverPid, `bench-bare-${shape.tickets}-${randomBytes(4).toString('hex')}`, async (workflowId) => {
    const n = await client.workflow.execute<typeof bareRunWorkflow>('bareRunWorkflow', {
      taskQueue,
      workflowId,
      args: [shape],
    });
    return n === shape.tickets ? 'completed' : `wrong (${n})`;
  });
}

function runMaestro(lane: MaestroLane, shape: Shape, budgeted: boolean, serverPid: number): Promise<Sample> {
  return withPeakRss(serverPid, `bench-floor-${shape.tickets}-${randomBytes(4).toString('hex')}`, async (id) => {
    const runId = await lane.maestro.start(`Bench floor [sim:tickets=${shape.tickets}] [sim:width=${shape.tickets}]`, {
      runId: id,
      maxParallel: shape.tickets,
      roles: DEFAULT_ROLES.map(roleInfoOf),
      // A cap far above what the run spends: measures the cost of budget accounting, not a stop.
      ...(budgeted ? { budget: { usd: 1000 } } : {}),
    });
    const result = await lane.maestro.result(runId);
    lane.sim.clearRequests();
    const accepted = result.tickets.filter((t) => t.state === 'accepted').length;
    return accepted === shape.tickets ? result.status : `${result.status} (${accepted}/${shape.tickets})`;
  });
}

function report(results: { shape: Shape; samples: Record<Kind, Sample[]> }[], reps: number): SectionReport {
  const wall = (s: Sample[]) => median(s.map((x) => x.wallMs)) / 1000;
  const rows = results.map(({ shape, samples }) => {
    const ideal = (4 * shape.latencyMs) / 1000;
    const [b, m, mb] = [wall(samples.bare), wall(samples.maestro), wall(samples['maestro+budget'])];
    const peak = Math.max(
      ...samples.maestro.map((s) => s.peakRssMb),
      ...samples['maestro+budget'].map((s) => s.peakRssMb),
    );
    const statuses = [
      ...new Set([...samples.maestro, ...samples['maestro+budget'], ...samples.bare].map((s) => s.status)),
    ];
    return {
      shape,
      ideal,
      bare: b,
      maestro: m,
      budgeted: mb,
      ratioBare: m / b,
      ratioIdeal: ideal > 0 ? m / ideal : NaN,
      bareIdeal: ideal > 0 ? b / ideal : NaN,
      budgetRatio: mb / m,
      ticketsPerSec: shape.tickets / m,
      bareTicketsPerSec: shape.tickets / b,
      overheadMsPerTicket: ((m - b) * 1000) / shape.tickets,
      peakRssMb: peak,
      statuses: statuses.join(','),
    };
  });
  const dash = (n: number) => (Number.isFinite(n) ? n : '-');
  const table: Table = {
    title: `floor: N independent tickets, every LLM call (or bare step) takes L; median of ${reps} run(s) each`,
    columns: [
      'N',
      'L ms',
      'ideal s',
      'bare s',
      'maestro s',
      'budget s',
      'maestro/bare',
      'maestro/ideal',
      'bare/ideal',
      'budget/maestro',
      'tickets/s',
      'bare t/s',
      'peak RSS MB',
      'status',
    ],
    rows: rows.map((r) => [
      r.shape.tickets,
      r.shape.latencyMs,
      r.ideal,
      r.bare,
      r.maestro,
      r.budgeted,
      r.ratioBare,
      dash(r.ratioIdeal),
      dash(r.bareIdeal),
      r.budgetRatio,
      r.ticketsPerSec,
      r.bareTicketsPerSec,
      r.peakRssMb,
      r.statuses,
    ]),
    notes: [
      'ideal = 4 × L (plan, work, review, final report, each one LLM latency; tickets fully parallel).',
      'bare = the same shape as plain Temporal workflows and activities (src/bench/bare-workflows.ts), same server.',
      'budget = Maestro with a run budget far above its spend (the cost of budget accounting, not of a stop).',
      'peak RSS = this process (Maestro worker + client + simulated LLM) while the Maestro runs were in flight.',
      'Targets (issue 12): at N=100, L=1 s: maestro/bare <= 1.15 and maestro/ideal <= 1.6; at L=0 >= 30 tickets/s;',
      'peak RSS <= 300 MB with 100 tickets in flight; budget/maestro <= 1.2.',
    ],
  };
  return {
    tables: [table],
    summary: {
      rows: rows.map((r) => ({
        tickets: r.shape.tickets,
        latencyMs: r.shape.latencyMs,
        idealS: r.ideal,
        bareS: round(r.bare, 3),
        maestroS: round(r.maestro, 3),
        budgetedS: round(r.budgeted, 3),
        maestroOverBare: round(r.ratioBare),
        maestroOverIdeal: Number.isFinite(r.ratioIdeal) ? round(r.ratioIdeal) : null,
        bareOverIdeal: Number.isFinite(r.bareIdeal) ? round(r.bareIdeal) : null,
        budgetedOverMaestro: round(r.budgetRatio),
        ticketsPerSec: round(r.ticketsPerSec, 1),
        overheadMsPerTicket: round(r.overheadMsPerTicket, 1),
        peakRssMb: r.peakRssMb,
        status: r.statuses,
      })),
    },
  };
}
