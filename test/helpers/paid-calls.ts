/**
 * The crash tests' proof that a SIGKILLed worker paid for nothing twice: from the simulated LLM's
 * request log, every completed call made more than once must have been in flight at the kill.
 */
import type { SimLlm, SimRequestRecord } from '../../src/dev/sim-llm';
import type { WorkerProcess } from './worker-process';

const key = (r: SimRequestRecord) => JSON.stringify([r.schemaName, r.messages]);

/** Checks that completed calls made more than once were all in flight at the kill; returns how many repeated. */
export function expectNoPaidCallRepeated(log: SimRequestRecord[], inFlightAtKill: SimRequestRecord[]): number {
  const allowed = new Set(inFlightAtKill.map(key));
  const completed = new Map<string, number>();
  for (const r of log.filter((q) => q.status === 200)) completed.set(key(r), (completed.get(key(r)) ?? 0) + 1);
  const repeated = [...completed].filter(([, n]) => n > 1).map(([k]) => k);
  for (const k of repeated) expect(allowed.has(k)).toBe(true);
  return repeated.length;
}

/** Kills the worker; the calls in flight then are those still open or closed by the client (499). */
export async function killAndSnapshot(sim: SimLlm, w: WorkerProcess): Promise<SimRequestRecord[]> {
  await w.kill();
  await new Promise((r) => setTimeout(r, 200)); // let the server notice the closed sockets
  return sim.requests().filter((r) => r.status === 0 || r.status === 499);
}
