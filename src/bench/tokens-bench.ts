/**
 * Context hygiene in numbers: what each worker is given as the plan grows (it must stay flat,
 * since a worker sees its ticket and its dependencies only), and what the same work would cost
 * in one growing conversation, the way a single agent holding the whole project works. Numbers
 * come from the simulated LLM's request log (the usage it reported for each call).
 */
import { randomBytes } from 'node:crypto';
import type { SimRequestRecord } from '../dev/sim-llm';
import { SCHEMA_NAMES } from '../shared/constants';
import { DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { startRunEnv, type RunEnv } from './run-env';
import { median, round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

/** Token figures of one run. */
interface TokenRow {
  tickets: number;
  status: string;
  workerCalls: number;
  promptPerCallMedian: number;
  promptPerCallMax: number;
  workerPrompt: number;
  workerCompletion: number;
  runTotal: number;
  oneContext: number;
}

/** The tokens section. */
export const tokensSection: BenchSection = {
  name: 'tokens',
  title: 'tokens per worker call as the plan grows, and the whole run against a one-context baseline',
  run,
};

async function run(ctx: BenchContext): Promise<SectionReport> {
  const sizes = ctx.quick ? [4, 20] : [4, 20, 100];
  const env = await startRunEnv(ctx);
  try {
    const rows: TokenRow[] = [];
    for (const n of sizes) {
      ctx.log(`tokens: ${n} tickets`);
      rows.push(await measure(env, n));
    }
    return report(rows);
  } finally {
    await env.stop();
  }
}

async function measure(env: RunEnv, tickets: number): Promise<TokenRow> {
  env.sim.clearRequests();
  // Two layers whatever the size: each ticket of the second depends on one of the first, so a
  // worker's context has one dependency output at every size and growth would mean a leak.
  const width = Math.ceil(tickets / 2);
  const runId = await env.maestro.start(`Bench tokens [sim:tickets=${tickets}] [sim:width=${width}]`, {
    runId: `bench-tokens-${tickets}-${randomBytes(3).toString('hex')}`,
    maxParallel: 10,
    roles: DEFAULT_ROLES.map(roleInfoOf),
  });
  const result = await env.maestro.result(runId);
  const calls = env.sim.requests().filter((r) => r.status === 200 && r.usage);
  env.sim.clearRequests();
  const work = calls.filter((r) => r.schemaName === SCHEMA_NAMES.work).sort((a, b) => a.seq - b.seq);
  const prompts = work.map((r) => r.usage?.prompt_tokens ?? 0);
  return {
    tickets: result.tickets.length,
    status: result.status,
    workerCalls: work.length,
    promptPerCallMedian: median(prompts),
    promptPerCallMax: Math.max(0, ...prompts),
    workerPrompt: sum(prompts),
    workerCompletion: sum(work.map((r) => r.usage?.completion_tokens ?? 0)),
    runTotal: sum(calls.map((r) => (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0))),
    oneContext: oneContextTokens(work),
  };
}

/**
 * Tokens of the same worker calls made in one growing conversation: call i is sent everything the
 * earlier calls were sent and answered, plus its own prompt; each answer is paid once.
 */
export function oneContextTokens(calls: readonly Pick<SimRequestRecord, 'usage'>[]): number {
  let history = 0;
  let total = 0;
  for (const c of calls) {
    const prompt = c.usage?.prompt_tokens ?? 0;
    const completion = c.usage?.completion_tokens ?? 0;
    total += history + prompt + completion;
    history += prompt + completion;
  }
  return total;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function report(rows: TokenRow[]): SectionReport {
  const first = rows[0];
  const last = rows[rows.length - 1];
  const growth = (last?.promptPerCallMedian ?? NaN) / (first?.promptPerCallMedian ?? NaN);
  const hygiene = (r: TokenRow) => r.workerPrompt + r.workerCompletion;
  return {
    tables: [
      {
        title: 'tokens: worker context per call (flat = hygiene holds) and the one-context baseline',
        columns: [
          'tickets',
          'worker calls',
          'prompt/call median',
          'prompt/call max',
          'worker tokens',
          'one-context tokens',
          'saving x',
          'run total tokens',
          'status',
        ],
        rows: rows.map((r) => [
          r.tickets,
          r.workerCalls,
          r.promptPerCallMedian,
          r.promptPerCallMax,
          hygiene(r),
          r.oneContext,
          r.oneContext / Math.max(1, hygiene(r)),
          r.runTotal,
          r.status,
        ]),
        notes: [
          `median worker prompt per call, ${first?.tickets ?? '?'} -> ${last?.tickets ?? '?'} tickets: x${round(growth)} ` +
            '(1 = flat: a worker sees its ticket and dependencies, not the plan).',
          'worker tokens = prompt + completion of every worker call (revisions included); one-context = the same calls',
          'in one growing conversation (each call resends all earlier prompts and answers). Plans: layers of 4, each',
          'ticket depends on one ticket of the layer before. run total = every call of the run, Boss included.',
        ],
      },
    ],
    summary: {
      promptPerCallGrowth: round(growth),
      rows: rows.map((r) => ({ ...r, saving: round(r.oneContext / Math.max(1, hygiene(r)), 1) })),
    },
  };
}
