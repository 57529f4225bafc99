/**
 * Memory of ONE Maestro worker with 100 tickets in flight (issue 12's target: ≤ 300 MB). The floor
 * section's peak RSS is the whole bench process (several workers, the client, the simulated LLM);
 * this section runs the real `maestro worker` CLI (dist/) in its own process against a dev server
 * started as `maestro dev` starts it (SQLite file), with the simulated LLM in the bench process at
 * a fixed latency so that every ticket's call is really pending at once, and samples that process's
 * VmRSS from /proc every ~100 ms (VmHWM, the kernel's own peak, at the end).
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MaestroClient } from '../client/api';
import { startSimLlm, SIM_MODEL, type SimLlm } from '../dev/sim-llm';
import { isolatedEnv, startWorkerProcess, workerPidOf } from '../dev/worker-process';
import { DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { findCli, startBenchDevServer } from './run-env';
import { processCpuMs } from './floor-breakdown';
import { round } from './stats';
import { BenchSetupError, type BenchContext, type BenchSection, type SectionReport } from './types';

/** Every LLM call waits this long, so all tickets of a wave overlap even on a loaded machine. */
const LATENCY_MS = 3000;
const SAMPLE_MS = 100;
/** A run that has not finished by then is stuck (it takes ~10 s): fail with the worker's output. */
const RUN_TIMEOUT_MS = 180_000;
/** The issue's target for one worker with 100 tickets in flight. */
export const WORKER_RSS_TARGET_MB = 300;

/** The rss section. */
export const workerRssSection: BenchSection = {
  name: 'rss',
  title: `RSS of one \`maestro worker\` process with 100 tickets in flight (simulated LLM at L = ${LATENCY_MS} ms)`,
  run,
};

/** VmRSS and VmHWM of a process, in MB, from /proc/<pid>/status (Linux). */
export function procMemoryMb(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Tickets with an LLM call the simulated server has not answered yet (work or review). */
function ticketsInFlight(sim: SimLlm): number {
  return new Set(sim.requests().flatMap((r) => (r.status === 0 && r.ticketId ? [r.ticketId] : []))).size;
}

/** What one measured run of the worker process showed. */
export interface RssSample {
  tickets: number;
  idleMb: number;
  peakMb: number;
  /** VmHWM of the launcher process, when `maestro worker` relaunched itself (NaN otherwise). */
  launcherMb: number;
  afterMb: number;
  hwmMb: number;
  inFlightAtPeak: number;
  maxInFlight: number;
  wallS: number;
  /** CPU seconds (user + system) the worker process spent on the run. */
  cpuS: number;
  status: string;
}

async function run(ctx: BenchContext): Promise<SectionReport> {
  if (process.platform !== 'linux') throw new BenchSetupError('the rss section reads /proc/<pid>/status: Linux only');
  const cliJs = path.join(ctx.repoRoot, 'dist', 'client', 'cli.js');
  if (!existsSync(cliJs)) throw new BenchSetupError(`the rss section runs ${cliJs}: run \`npm run build\` first`);
  const tickets = ctx.quick ? 20 : 100;
  const stops: (() => Promise<void>)[] = [];
  try {
    const cli = await findCli(ctx);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-rss-'));
    stops.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    ctx.log('rss: starting a dev server on a SQLite file, as `maestro dev` does');
    const server = await startBenchDevServer({ cliPath: cli.path, dir, section: 'rss' });
    stops.push(() => server.stop());
    const sim = await startSimLlm({ port: 0, latencyMs: LATENCY_MS, maxRecords: 4 * tickets + 20 });
    stops.push(() => sim.close());
    const taskQueue = `bench-rss-${randomBytes(3).toString('hex')}`;
    ctx.log('rss: starting `maestro worker` in its own process');
    const env = isolatedEnv({
      TEMPORAL_ADDRESS: server.address,
      MAESTRO_TASK_QUEUE: taskQueue,
      OPENAI_BASE_URL: sim.baseUrl,
      OPENAI_API_KEY: 'bench',
      MAESTRO_MODEL: SIM_MODEL,
      MAESTRO_HOME: path.join(dir, 'home'),
    });
    const { child: worker, output } = await startWorkerProcess({ cliJs, env }).catch((err: unknown) => {
      throw new BenchSetupError((err as Error).message);
    });
    stops.push(() => stopChild(worker));
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const maestro = new MaestroClient(new Client({ connection }), taskQueue);

    await sleep(1000);
    const pids = workerPidOf(worker.pid!);
    const pid = pids.worker;
    const idleMb = procMemoryMb(pid).rss;
    ctx.log(
      `rss: worker (pid ${pid}${pids.launcher ? `, launcher ${pids.launcher}` : ''}) idle at ${idleMb.toFixed(1)} MB; running ${tickets} independent tickets`,
    );
    let peakMb = idleMb;
    let inFlightAtPeak = 0;
    let maxInFlight = 0;
    const timer = setInterval(() => {
      try {
        const { rss } = procMemoryMb(pid);
        const inFlight = ticketsInFlight(sim);
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (rss > peakMb) [peakMb, inFlightAtPeak] = [rss, inFlight];
      } catch {
        // the worker exited; the run's result says so
      }
    }, SAMPLE_MS);
    const t0 = performance.now();
    const cpu0 = processCpuMs(pid);
    let status: string;
    try {
      const runId = await maestro.start(`Bench worker RSS [sim:tickets=${tickets}] [sim:width=${tickets}]`, {
        runId: `bench-rss-${tickets}-${randomBytes(4).toString('hex')}`,
        maxParallel: tickets,
        roles: DEFAULT_ROLES.map(roleInfoOf),
      });
      let timeout: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        maestro.result(runId),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () =>
              reject(
                new Error(
                  `run ${runId} did not finish in ${RUN_TIMEOUT_MS / 1000} s; worker output:\n${output().slice(-3000)}`,
                ),
              ),
            RUN_TIMEOUT_MS,
          );
        }),
      ]).finally(() => clearTimeout(timeout));
      const accepted = result.tickets.filter((t) => t.state === 'accepted').length;
      status = accepted === tickets ? result.status : `${result.status} (${accepted}/${tickets})`;
    } finally {
      clearInterval(timer);
    }
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = (processCpuMs(pid) - cpu0) / 1000;
    await sleep(2000);
    const end = procMemoryMb(pid);
    const sample: RssSample = {
      tickets,
      idleMb: idleMb,
      peakMb: Math.max(peakMb, end.rss),
      launcherMb: pids.launcher ? procMemoryMb(pids.launcher).hwm : NaN,
      afterMb: end.rss,
      hwmMb: end.hwm,
      inFlightAtPeak,
      maxInFlight,
      wallS,
      cpuS,
      status,
    };
    ctx.log(`rss: peak ${sample.peakMb.toFixed(1)} MB (VmHWM ${end.hwm.toFixed(1)}) with ${inFlightAtPeak} in flight`);
    return report(sample);
  } finally {
    for (const s of stops.reverse()) await s().catch((err: unknown) => ctx.log(`rss: ${(err as Error).message}`));
  }
}

function report(s: RssSample): SectionReport {
  const perTicket = (Math.max(s.peakMb, s.hwmMb) - s.idleMb) / Math.max(1, s.maxInFlight);
  return {
    tables: [
      {
        title: `rss: one \`maestro worker\` process (all queues), ${s.tickets} independent tickets, maxParallel ${s.tickets}, L = ${LATENCY_MS} ms`,
        columns: [
          'tickets',
          'idle MB',
          'peak MB',
          'VmHWM MB',
          'after MB',
          'launcher MB',
          'in flight at peak',
          'max in flight',
          'MB/ticket',
          'wall s',
          'worker CPU s',
          'status',
        ],
        rows: [
          [
            s.tickets,
            s.idleMb,
            s.peakMb,
            s.hwmMb,
            s.afterMb,
            Number.isFinite(s.launcherMb) ? s.launcherMb : '-',
            s.inFlightAtPeak,
            s.maxInFlight,
            perTicket,
            s.wallS,
            s.cpuS,
            s.status,
          ],
        ],
        notes: [
          `RSS of the worker process only (VmRSS every ${SAMPLE_MS} ms; VmHWM = the kernel's peak), not the dev server or the LLM.`,
          'launcher MB = VmHWM of the small process `maestro worker` relaunches itself from (memory settings at start); it shares most of its pages (the node binary) with the worker.',
          'in flight = tickets with an LLM call (work or review) the simulated server had not answered yet.',
          'MB/ticket = (max(peak, VmHWM) - idle) / max in flight.',
          'worker CPU s = user + system CPU of the worker process from the start of the run to its result (/proc).',
          `Target (issue 12): <= ${WORKER_RSS_TARGET_MB} MB with 100 tickets in flight.`,
        ],
      },
    ],
    summary: {
      tickets: s.tickets,
      idleMb: round(s.idleMb, 1),
      peakMb: round(s.peakMb, 1),
      hwmMb: round(s.hwmMb, 1),
      afterMb: round(s.afterMb, 1),
      launcherMb: Number.isFinite(s.launcherMb) ? round(s.launcherMb, 1) : null,
      inFlightAtPeak: s.inFlightAtPeak,
      maxInFlight: s.maxInFlight,
      mbPerTicket: round(perTicket, 2),
      wallS: round(s.wallS, 2),
      cpuS: round(s.cpuS, 2),
      status: s.status,
    },
  };
}

/** SIGTERM (the worker drains), SIGKILL after 10 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
