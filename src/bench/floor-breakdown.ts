/**
 * Where the floor section's time goes: for the largest N, the CPU each run cost the bench process
 * (workers, client, simulated LLM) and the dev server, and the shape of its histories (workflow
 * tasks of the parent and of a child, events, payload bytes). On a 2-core machine a run at L = 0 is
 * CPU-bound, so Maestro's extra wall time follows its extra CPU; equal task counts show that the
 * workflows themselves do not make more round trips than the bare baseline.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { runShape, type RunShape } from './history-shape';
import { round } from './stats';
import type { Table } from './table';

/** CPU milliseconds one run cost. */
export interface RunCpu {
  processMs: number;
  /** The dev server's CPU (Linux /proc); NaN where it cannot be read. */
  serverMs: number;
}

/** Starts counting CPU; the returned function stops and reports. */
export function cpuMeter(serverPid: number): () => RunCpu {
  const p0 = process.cpuUsage();
  const s0 = processCpuMs(serverPid);
  return () => {
    const p = process.cpuUsage(p0);
    return { processMs: (p.user + p.system) / 1000, serverMs: processCpuMs(serverPid) - s0 };
  };
}

/** utime + stime of another process in ms (Linux /proc); NaN elsewhere or once it exited. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** One kind's run at one shape, measured for the breakdown. */
export interface BreakdownRow {
  kind: string;
  tickets: number;
  latencyMs: number;
  wallMs: number;
  cpu: RunCpu;
  shape: RunShape;
}

/** Fetches the run's histories (after it was timed) and pairs them with its CPU. */
export async function breakdownOf(
  client: Client,
  run: { kind: string; tickets: number; latencyMs: number; wallMs: number; cpu: RunCpu; workflowId: string },
): Promise<BreakdownRow> {
  return { ...run, shape: await runShape(client, run.workflowId) };
}

/** The breakdown table. */
export function breakdownTable(rows: BreakdownRow[]): Table {
  const s = (ms: number) => (Number.isFinite(ms) ? round(ms / 1000, 2) : '-');
  return {
    title: 'floor breakdown: one run per kind at the largest N (CPU and history shape)',
    columns: [
      'kind',
      'N',
      'L ms',
      'wall s',
      'bench CPU s',
      'server CPU s',
      'parent WFTs',
      'child WFTs',
      'parent events',
      'child events',
      'payload KB/ticket',
    ],
    rows: rows.map((r) => [
      r.kind,
      r.tickets,
      r.latencyMs,
      round(r.wallMs / 1000, 2),
      s(r.cpu.processMs),
      s(r.cpu.serverMs),
      r.shape.parent.workflowTasks,
      round(r.shape.child.workflowTasks, 2),
      r.shape.parent.events,
      round(r.shape.child.events, 1),
      round((r.shape.parent.payloadBytes / r.tickets + r.shape.child.payloadBytes) / 1024, 2),
    ]),
    notes: [
      'bench CPU = this process (all workers, the client and the simulated LLM); server CPU = the dev server.',
      'WFTs = completed workflow tasks (each a serial round trip of that workflow); child = mean over the children.',
      'payload KB/ticket = payload bytes in the parent history per ticket plus a mean child history.',
    ],
  };
}
