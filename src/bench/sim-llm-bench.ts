/**
 * Benchmark of one LLM call as the activities make it: StructuredLlm (the openai client with
 * `zodResponseFormat`, then zod validation) over real HTTP to the simulated LLM, with the real
 * prompt builders. Requests per second and latency percentiles at concurrency 1 and 8.
 */
import type { z } from 'zod';
import { StructuredLlm } from '../activities/llm/structured';
import { buildPlanPrompt, buildReviewPrompt, buildWorkerPrompt, type Prompt } from '../activities/roles/prompts';
import { startSimLlm, SIM_MODEL, type SimLlm } from '../dev/sim-llm';
import { REVIEW_EXCERPT_CHARS, SCHEMA_NAMES } from '../shared/constants';
import { excerptOfText } from '../activities/artifacts/excerpt';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES, roleInfoOf } from '../shared/roles';
import { planSchemaForRoles, Review, WorkResult } from '../shared/schemas';
import { median, percentile, round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

const CONCURRENCY = [1, 8] as const;
const WARMUP_CALLS = 10;

/** One kind of call: the Boss's plan, a worker's ticket, the Boss's review. */
interface CallKind {
  name: string;
  prompt: Prompt;
  schema: z.ZodType;
  schemaName: string;
}

interface Cell {
  kind: string;
  concurrency: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  cpuMsPerReq: number;
}

/** The sim-llm section. */
export const simLlmSection: BenchSection = {
  name: 'sim-llm',
  title: 'StructuredLlm over HTTP to the simulated LLM (latency 0): requests/s and latency at concurrency 1 and 8',
  run,
};

async function run(ctx: BenchContext): Promise<SectionReport> {
  const requests = ctx.quick ? 60 : 200;
  const rounds = ctx.quick ? 1 : 3;
  const sim = await startSimLlm({ port: 0, latencyMs: 0 });
  try {
    const llm = new StructuredLlm({ baseUrl: sim.baseUrl, apiKey: 'bench', timeoutMs: 30_000 });
    const kinds = await callKinds(llm);
    const cells: Cell[] = [];
    for (const kind of kinds) {
      for (let i = 0; i < WARMUP_CALLS; i++) await call(llm, kind);
      for (const concurrency of CONCURRENCY) {
        ctx.log(`sim-llm: ${kind.name} x${requests} at concurrency ${concurrency} (${rounds} round(s))`);
        cells.push(await measure(llm, sim, kind, concurrency, requests, rounds));
      }
    }
    const speedups = kinds.map((k) => {
      const at = (c: number) => cells.find((x) => x.kind === k.name && x.concurrency === c);
      return { kind: k.name, speedup: (at(8)?.reqPerSec ?? NaN) / (at(1)?.reqPerSec ?? NaN) };
    });
    return {
      tables: [
        {
          title: `sim-llm: ${requests} requests per cell, ${rounds} round(s); req/s is the median round`,
          columns: ['call', 'concurrency', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU ms/req', 'req/s vs c=1'],
          rows: cells.map((c) => [
            c.kind,
            c.concurrency,
            c.reqPerSec,
            c.p50Ms,
            c.p95Ms,
            c.p99Ms,
            c.cpuMsPerReq,
            c.reqPerSec / (cells.find((x) => x.kind === c.kind && x.concurrency === 1)?.reqPerSec ?? NaN),
          ]),
          notes: [
            'Client and simulated server share this process (one event loop), as in `maestro run`; CPU ms/req counts both.',
            'Latency is per StructuredLlm.call: request build, HTTP, answer generation, JSON parse and zod validation.',
          ],
        },
      ],
      summary: {
        requestsPerCell: requests,
        rounds,
        cells: cells.map((c) => ({
          ...c,
          reqPerSec: round(c.reqPerSec, 1),
          p50Ms: round(c.p50Ms),
          p95Ms: round(c.p95Ms),
          p99Ms: round(c.p99Ms),
          cpuMsPerReq: round(c.cpuMsPerReq, 3),
        })),
        speedupC8overC1: speedups.map((s) => ({ kind: s.kind, speedup: round(s.speedup) })),
      },
    };
  } finally {
    await sim.close();
  }
}

/** Builds the three call kinds from real answers: the plan's first ticket, and its work result for the review. */
async function callKinds(llm: StructuredLlm): Promise<CallKind[]> {
  const roles = DEFAULT_ROLES.map(roleInfoOf);
  const plan: CallKind = {
    name: 'plan',
    prompt: buildPlanPrompt({
      bossSystemPrompt: BOSS_SYSTEM_PROMPT,
      goal: 'Bench [sim:tickets=20]',
      roles,
      maxTickets: 100,
    }),
    schema: planSchemaForRoles(roles.map((r) => r.name)),
    schemaName: SCHEMA_NAMES.plan,
  };
  const planned = planSchemaForRoles(roles.map((r) => r.name)).parse(await call(llm, plan));
  const ticket = planned.tickets[0];
  if (!ticket) throw new Error('the simulated LLM returned a plan without tickets');
  const role = DEFAULT_ROLES.find((r) => r.name === ticket.role) ?? DEFAULT_ROLES[0];
  if (!role) throw new Error('no default roles are defined');
  const work: CallKind = {
    name: 'work',
    prompt: buildWorkerPrompt({ roleSystemPrompt: role.systemPrompt, ticket, dependencies: [], attempt: 1 }),
    schema: WorkResult,
    schemaName: SCHEMA_NAMES.work,
  };
  const result = WorkResult.parse(await call(llm, work));
  const review: CallKind = {
    name: 'review',
    prompt: buildReviewPrompt({
      bossSystemPrompt: BOSS_SYSTEM_PROMPT,
      ticket,
      summary: result.summary,
      files: result.files.map((f) => excerptOfText(f.path, f.content, REVIEW_EXCERPT_CHARS)),
      attempt: 1,
      revisionsLeft: 2,
    }),
    schema: Review,
    schemaName: SCHEMA_NAMES.review,
  };
  return [plan, work, review];
}

async function call(llm: StructuredLlm, kind: CallKind): Promise<unknown> {
  const res = await llm.call({
    model: SIM_MODEL,
    prompt: kind.prompt,
    schema: kind.schema,
    schemaName: kind.schemaName,
    label: `bench ${kind.name}`,
  });
  return res.data;
}

async function measure(
  llm: StructuredLlm,
  sim: SimLlm,
  kind: CallKind,
  concurrency: number,
  requests: number,
  rounds: number,
): Promise<Cell> {
  const latencies: number[] = [];
  const rates: number[] = [];
  let cpuUs = 0;
  for (let r = 0; r < rounds; r++) {
    sim.clearRequests();
    let issued = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lane = async () => {
      while (issued < requests) {
        issued++;
        const s = performance.now();
        await call(llm, kind);
        latencies.push(performance.now() - s);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    rates.push(requests / seconds);
  }
  sim.clearRequests();
  return {
    kind: kind.name,
    concurrency,
    requests: requests * rounds,
    reqPerSec: median(rates),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    cpuMsPerReq: cpuUs / 1000 / (requests * rounds),
  };
}
