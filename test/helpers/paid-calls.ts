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
  // Named in the failure: which call was paid twice (schema and the start of its last message).
  const unexpected = repeated
    .filter((k) => !allowed.has(k))
    .map((k) => {
      const [schema, messages] = JSON.parse(k) as [string, { content?: unknown }[]];
      return `${schema}: ${JSON.stringify(messages.at(-1)?.content ?? '').slice(0, 300)}`;
    });
  expect(unexpected).toEqual([]);
  return repeated.length;
}

/**
 * Kills the worker; the calls in flight then are those still open or closed by the client (499).
 * With `recentMs`, also the calls answered in the last `recentMs` before the kill: their activity
 * may not have reported its result yet, so its retry makes the call again (a kill not aimed at an
 * LLM call, e.g. at a merge while other tickets' agents work, can land in that window).
 */
export async function killAndSnapshot(
  sim: SimLlm,
  w: WorkerProcess,
  opts: { recentMs?: number } = {},
): Promise<SimRequestRecord[]> {
  const killedAt = Date.now();
  await w.kill();
  await new Promise((r) => setTimeout(r, 200)); // let the server notice the closed sockets
  const recent = (r: SimRequestRecord) =>
    opts.recentMs !== undefined && Date.parse(r.at) + r.durationMs >= killedAt - opts.recentMs;
  return sim.requests().filter((r) => r.status === 0 || r.status === 499 || recent(r));
}
