/**
 * Prompt caching in numbers: a run on the simulated LLM (100 tickets; 20 with --quick) and the
 * website demo with agents, and per role the share of prompt tokens that repeats the start of an
 * earlier call, the share the simulator reported cached by OpenAI's rules, and the bill with and
 * without that caching.
 */
import { randomBytes } from 'node:crypto';
import type { SimRequestRecord } from '../dev/sim-llm';
import { SCHEMA_NAMES } from '../shared/constants';
import { BOSS_ROLE, DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import type { AgentSettings } from '../shared/tools';
import type { RoleInfo } from '../shared/types';
import { prefixCalls, prefixRows, type PrefixRow } from './prefix-share';
import { startRunEnv, type RunEnv } from './run-env';
import { round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

/** The cache section. */
export const cacheSection: BenchSection = {
  name: 'cache',
  title: 'prompt caching: repeated prompt prefixes per role and the bill with and without cached tokens',
  run,
};

const WEBSITE_GOAL = 'Build a landing page for a coffee shop called Bean There';

const BOSS_SCHEMAS: readonly string[] = [SCHEMA_NAMES.plan, SCHEMA_NAMES.review, SCHEMA_NAMES.final];

/** One measured run: its rows per role and what Maestro billed. */
interface CacheRun {
  label: string;
  tickets: number;
  status: string;
  billedUsd: number;
  rows: PrefixRow[];
}

/** The tools of the agent run: files only, so it needs no sandbox. */
const FILE_TOOLS: AgentSettings['tools'] = ['list_files', 'read_file', 'write_file'];

async function run(ctx: BenchContext): Promise<SectionReport> {
  const tickets = ctx.quick ? 20 : 100;
  const env = await startRunEnv(ctx);
  try {
    const runs: CacheRun[] = [];
    ctx.log(`cache: ${tickets} tickets`);
    // Two layers, as in the tokens section: each ticket of the second depends on one of the first.
    runs.push(
      await measure(env, {
        label: `${tickets}-ticket run`,
        goal: `Bench cache [sim:tickets=${tickets}] [sim:width=${Math.ceil(tickets / 2)}]`,
        roles: DEFAULT_ROLES.map(roleInfoOf),
      }),
    );
    // Agents resend their earlier turns on every turn: the prompts where a prefix of 1,024 tokens repeats.
    ctx.log('cache: the website demo with coder and tester as agents');
    runs.push(
      await measure(env, {
        label: 'website demo, coder and tester as agents (file tools)',
        goal: WEBSITE_GOAL,
        roles: DEFAULT_ROLES.map(roleInfoOf).map((r) =>
          r.name === 'coder' || r.name === 'tester' ? { ...r, agent: { tools: [...FILE_TOOLS] } } : r,
        ),
      }),
    );
    return report(runs);
  } finally {
    await env.stop();
  }
}

async function measure(env: RunEnv, c: { label: string; goal: string; roles: RoleInfo[] }): Promise<CacheRun> {
  env.sim.clearRequests();
  const runId = await env.maestro.start(c.goal, {
    runId: `bench-cache-${randomBytes(4).toString('hex')}`,
    maxParallel: 10,
    roles: c.roles,
  });
  const result = await env.maestro.result(runId);
  const roleOfTicket = new Map(result.tickets.map((t) => [t.id, t.role]));
  const roleOf = (r: SimRequestRecord) =>
    BOSS_SCHEMAS.includes(r.schemaName) ? BOSS_ROLE : ((r.ticketId && roleOfTicket.get(r.ticketId)) ?? 'other');
  const rows = prefixRows(prefixCalls(env.sim.requests(), roleOf));
  env.sim.clearRequests();
  return { label: c.label, tickets: result.tickets.length, status: result.status, billedUsd: result.cost.usd, rows };
}

const pct = (part: number, whole: number) => (whole > 0 ? round((100 * part) / whole, 1) : 0);

function report(runs: CacheRun[]): SectionReport {
  return {
    tables: runs.map((run) => ({
      title: `cache: ${run.label}, ${run.tickets} tickets (${run.status}): prompt prefixes and the bill per role`,
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
      rows: run.rows.map((r) => [
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
    })),
    summary: {
      runs: runs.map((run) => ({
        label: run.label,
        tickets: run.tickets,
        status: run.status,
        billedUsd: run.billedUsd,
        rows: run.rows.map((r) => ({
          ...r,
          usdCached: round(r.usdCached, 6),
          usdUncached: round(r.usdUncached, 6),
          repeatedPct: pct(r.repeatedTokens, r.promptTokens),
          cachedPct: pct(r.cachedTokens, r.promptTokens),
        })),
      })),
    },
  };
}
