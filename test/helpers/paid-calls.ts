/**
 * The crash tests' proof that a SIGKILLed worker paid for nothing twice: from the simulated LLM's
 * request log, every completed call made more than once must have been in flight at the kill.
 */
import { Client, Connection } from '@temporalio/client';
import { startSimLlm, type SimLlm, type SimRequestRecord } from '../../src/dev/sim-llm';
import { testAddress } from './temporal';
import { spawnWorker, type WorkerProcess } from './worker-process';

/** What a crash test needs: a simulated LLM, a client of the suite's server, killable workers. */
export interface CrashHarness {
  sim: SimLlm;
  client: Client;
  /** Starts a `maestro worker` process (killed after the file's tests at the latest). */
  worker: (env: NodeJS.ProcessEnv) => Promise<WorkerProcess>;
}

/** Starts the harness before the file's tests and stops it (workers first) after them. */
export function useCrashHarness(): CrashHarness {
  const workers: WorkerProcess[] = [];
  let connection: Connection | undefined;
  const h = {
    worker: async (env: NodeJS.ProcessEnv) => {
      const w = await spawnWorker(env);
      workers.push(w);
      return w;
    },
  } as CrashHarness;
  beforeAll(async () => {
    h.sim = await startSimLlm({ port: 0 });
    connection = await Connection.connect({ address: testAddress() });
    h.client = new Client({ connection });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await connection?.close();
    await h.sim?.close();
  });
  return h;
}

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
