/**
 * Prompt caching in numbers: one run on the simulated LLM (100 tickets; 20 with --quick), and per
 * role the share of prompt tokens that repeats the start of an earlier call, the share the
 * simulator reported cached by OpenAI's rules, and the bill with and without that caching.
 */
import { randomBytes } from 'node:crypto';
import type { SimRequestRecord } from '../dev/sim-llm';
import { SCHEMA_NAMES } from '../shared/constants';
import { BOSS_ROLE, DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { prefixCalls, prefixRows, type PrefixRow } from './prefix-share';
import { startRunEnv } from './run-env';
import { round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

/** The cache section. */
export const cacheSection: BenchSection = {
  name: 'cache',
  title: 'prompt caching: repeated prompt prefixes per role and the bill with and without cached tokens',
  run,
};

const BOSS_SCHEMAS: readonly string[] = [SCHEMA_NAMES.plan, SCHEMA_NAMES.review, SCHEMA_NAMES.final];

async function run(ctx: BenchContext): Promise<SectionReport> {
  const tickets = ctx.quick ? 20 : 100;
  const env = await startRunEnv(ctx);
  try {
    env.sim.clearRequests();
    ctx.log(`cache: ${tickets} tickets`);
    // Two layers, as in the tokens section: each ticket of the second depends on one of the first.
    const runId = await env.maestro.start(
      `Bench cache [sim:tickets=${tickets}] [sim:width=${Math.ceil(tickets / 2)}]`,
      {
        runId: `bench-cache-${tickets}-${randomBytes(3).toString('hex')}`,
        maxParallel: 10,
        roles: DEFAULT_ROLES.map(roleInfoOf),
      },
    );
    const result = await env.maestro.result(runId);
    const roleOfTicket = new Map(result.tickets.map((t) => [t.id, t.role]));
    const roleOf = (r: SimRequestRecord) =>
      BOSS_SCHEMAS.includes(r.schemaName) ? BOSS_ROLE : ((r.ticketId && roleOfTicket.get(r.ticketId)) ?? 'other');
    const rows = prefixRows(prefixCalls(env.sim.requests(), roleOf));
    env.sim.clearRequests();
    return report(rows, { tickets: result.tickets.length, status: result.status, billedUsd: result.cost.usd });
  } finally {
    await env.stop();
  }
}

const pct = (part: number, whole: number) => round((100 * part) / Math.max(1, whole), 1);

function report(rows: PrefixRow[], run: { tickets: number; status: string; billedUsd: number }): SectionReport {
  const all = rows.find((r) => r.role === 'all');
  return {
    tables: [
      {
        title: `cache: ${run.tickets}-ticket run (${run.status}), prompt prefixes and the bill per role`,
        columns: [
          'role',
          'calls',
          'prompt tokens',
          'repeated prefix %',
          'cached %',
          'bill cached $',
          'bill uncached $',
          'saving %',
        ],
        rows: rows.map((r) => [
          r.role,
          r.calls,
          r.promptTokens,
          pct(r.repeatedTokens, r.promptTokens),
          pct(r.cachedTokens, r.promptTokens),
          round(r.usdCached, 6),
          round(r.usdUncached, 6),
          pct(r.usdUncached - r.usdCached, r.usdUncached),
        ]),
        notes: [
          'repeated prefix % = prompt tokens at the start of a call that an earlier call of the run began with too',
          "(any length: what a provider's prefix cache could reuse). cached % = what the simulator reported cached by",
          "OpenAI's rules (only from 1,024 shared tokens, in 128-token steps). Bills at maestro-sim's price (gpt-4.1-mini's:",
          `$0.40/M input, $0.10/M cached input, $1.60/M output); Maestro's own bill of the run: $${round(run.billedUsd, 6)}.`,
        ],
      },
    ],
    summary: {
      tickets: run.tickets,
      status: run.status,
      billedUsd: run.billedUsd,
      allUsdCached: all ? round(all.usdCached, 6) : undefined,
      rows: rows.map((r) => ({
        ...r,
        usdCached: round(r.usdCached, 6),
        usdUncached: round(r.usdUncached, 6),
        repeatedPct: pct(r.repeatedTokens, r.promptTokens),
        cachedPct: pct(r.cachedTokens, r.promptTokens),
      })),
    },
  };
}
