/**
 * Traces and metrics of a real run: a `maestro worker --metrics` process with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP receiver in this test runs a whole run;
 * the receiver collects the spans (names, parent links, GenAI attributes; the CLI's own start and
 * decision spans in the run's trace) and the test scrapes the worker's Prometheus endpoint for the
 * SDK's and Maestro's metrics (LLM calls, gate waits).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { RunResult } from '../../src/shared/types';
import { cleanEnv, runCli } from '../helpers/cli';
import { waitForStatus } from '../helpers/runs';
import { connectTest, testAddress, uniqueQueue, type TestConnection } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attrs: Record<string, string | number>;
}

const GOAL = 'Build a landing page for a record store called Groove';
let sim: SimLlm;
let receiver: Server;
let conn: TestConnection;
let worker: WorkerProcess | undefined;
let agentWorker: WorkerProcess | undefined;
const spans: Span[] = [];

function collect(body: string): void {
  const parsed = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
  for (const rs of parsed.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) {
        const attrs: Record<string, string | number> = {};
        for (const a of s.attributes ?? [])
          attrs[a.key] =
            a.value.stringValue ?? (a.value.doubleValue !== undefined ? a.value.doubleValue : Number(a.value.intValue));
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          attrs,
        });
      }
}

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  conn = await connectTest();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') collect(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
/** Waits until the receiver has the run's root span, then for the last batch; the run's spans. */
async function spansOfRun(runId: string): Promise<{ run: Span; inRun: Span[] }> {
  const deadline = Date.now() + 30_000;
  const root = () =>
    spans.find((s) => s.name === 'invoke_workflow maestro' && s.attrs['gen_ai.conversation.id'] === runId);
  while (!root() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const run = root();
  expect(run).toBeDefined();
  await new Promise((r) => setTimeout(r, 1500)); // the last batch
  return { run: run!, inRun: spans.filter((s) => s.traceId === run!.traceId) };
}

/** The environment of a worker process with its own task queue, tracing to the receiver. */
function workerEnv(taskQueue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-otel-')),
    MAESTRO_LOG_LEVEL: 'ERROR',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    ...extra,
  });
}

afterAll(async () => {
  await worker?.kill();
  await agentWorker?.kill();
  await conn?.close();
  await sim?.close();
  receiver?.close();
});

it('exports GenAI spans of a run over OTLP and serves worker and Maestro metrics for Prometheus', async () => {
  const taskQueue = uniqueQueue('telemetry');
  const metricsPort = await freePort('127.0.0.1');
  const env = workerEnv(taskQueue);
  worker = await spawnWorker(env, ['--metrics', `127.0.0.1:${metricsPort}`]);
  const runId = `${taskQueue}-run`;
  const started = await runCli(['start', GOAL, '--run-id', runId], env, 60_000);
  expect(started.code).toBe(0);
  const result = (await conn.client.workflow.getHandle(runId).result()) as RunResult;
  expect(result.status).toBe('completed');

  // Metrics: the SDK's worker metrics and Maestro's, with values from this run.
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(metrics).toMatch(/^temporal_activity_execution_latency/m);
  for (const phase of ['planning', 'executing', 'finalizing'])
    expect(metrics).toMatch(new RegExp(`^maestro_runs\\{[^}]*phase="${phase}"[^}]*\\} \\d+$`, 'm'));
  const value = (name: string, role: string) =>
    metrics
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(`role="${role}"`) && l.includes(`task_queue="${taskQueue}"`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  const coderCalls = result.calls.filter((c) => c.role === 'coder');
  expect(value('maestro_llm_input_tokens_total{', 'coder')).toBe(coderCalls.reduce((n, c) => n + c.promptTokens, 0));
  expect(value('maestro_llm_output_tokens_total{', 'coder')).toBe(
    coderCalls.reduce((n, c) => n + c.completionTokens, 0),
  );
  expect(value('maestro_llm_cost_usd_sum{', 'boss')).toBeGreaterThan(0);
  expect(value('maestro_llm_operation_duration_seconds_count{', 'boss')).toBe(
    result.calls.filter((c) => c.role === 'boss').length,
  );

  // Spans: one trace per run rooted at invoke_workflow, with plan, agents and chats under it.
  const { run, inRun } = await spansOfRun(runId);
  const byId = new Map(inRun.map((s) => [s.spanId, s]));
  const plan = inRun.find((s) => s.name === 'plan');
  expect(plan?.parentSpanId).toBe(run.spanId);
  // The client's start (the `maestro start` process, the SDK's client interceptor) is in the same trace.
  const start = inRun.find((s) => s.name === 'StartWorkflow:orchestratorWorkflow');
  expect(start).toMatchObject({ parentSpanId: run.spanId, attrs: { temporalWorkflowId: runId } });
  const agents = inRun.filter((s) => s.name.startsWith('invoke_agent '));
  expect(agents.map((s) => s.name)).toEqual(
    expect.arrayContaining(['invoke_agent designer', 'invoke_agent coder', 'invoke_agent boss']),
  );
  for (const a of agents) expect(a.parentSpanId).toBe(run.spanId);
  const coder = agents.find((s) => s.name === 'invoke_agent coder')!;
  expect(coder.attrs).toMatchObject({ 'gen_ai.agent.name': 'coder', 'gen_ai.operation.name': 'invoke_agent' });
  expect(String(coder.attrs['gen_ai.conversation.id'])).toMatch(new RegExp(`^${runId}/T\\d+$`));

  const chats = inRun.filter((s) => s.name === 'chat maestro-sim');
  expect(chats).toHaveLength(result.calls.length);
  for (const c of chats) {
    // chat -> RunActivity:<type> (the SDK's interceptor) -> plan / invoke_agent -> invoke_workflow
    const activity = byId.get(c.parentSpanId!);
    expect(activity?.name).toMatch(/^RunActivity:/);
    const owner = byId.get(activity!.parentSpanId!);
    expect(owner?.name).toMatch(/^(plan|invoke_agent )/);
    expect(owner?.parentSpanId).toBe(run.spanId);
    expect(c.attrs['gen_ai.request.model']).toBe('maestro-sim');
    expect(c.attrs['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(c.attrs['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(c.attrs['gen_ai.usage.cache_read.input_tokens']).toBeGreaterThanOrEqual(0);
    expect(c.attrs['maestro.cost_usd']).toBeGreaterThan(0);
    expect(typeof c.attrs['gen_ai.agent.name']).toBe('string');
  }
  const coderChats = chats.filter((c) => c.attrs['gen_ai.agent.name'] === 'coder');
  expect(coderChats.reduce((n, c) => n + Number(c.attrs['gen_ai.usage.input_tokens']), 0)).toBe(
    coderCalls.reduce((n, c) => n + c.promptTokens, 0),
  );
});

it('times gate waits (maestro_gate_wait_seconds) and traces agent turns and tool calls (execute_tool spans)', async () => {
  const taskQueue = uniqueQueue('telemetry-gates');
  const metricsPort = await freePort('127.0.0.1');
  // Every role an agent whose list_files calls wait for a person (a ticket gate).
  const config = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-otel-config-')), 'maestro.config.json');
  const agent = { tools: ['list_files', 'write_file'], approvals: { list_files: 'always' } };
  writeFileSync(
    config,
    JSON.stringify({ roles: ['designer', 'writer', 'coder', 'tester'].map((name) => ({ name, ...agent })) }),
  );
  const env = workerEnv(taskQueue, { MAESTRO_CONFIG: config });
  agentWorker = await spawnWorker(env, ['--metrics', `127.0.0.1:${metricsPort}`]);
  const runId = `${taskQueue}-run`;
  const started = await runCli(
    [
      'start',
      'Write a short guide to pruning roses [sim:tickets=1]',
      ...['--run-id', runId, '--plan-approval', 'manual', '--final-approval', 'manual'],
      ...['--gate-timeout', 'final=1s:approve'],
    ],
    env,
    60_000,
  );
  expect(started.code).toBe(0);
  const pending = (kind: string) => (s: { pendingGates: { kind: string }[] }) =>
    s.pendingGates.some((g) => g.kind === kind);
  // A person approves the plan after at least 1.5 s, and the tool call after at least 0.5 s.
  await waitForStatus(conn.client, runId, pending('plan'), 60_000, 'the plan gate');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await runCli(['approve', runId, '--by', 'ana'], env, 60_000)).code).toBe(0);
  await waitForStatus(conn.client, runId, pending('ticket'), 60_000, 'the tool approval gate');
  await new Promise((r) => setTimeout(r, 500));
  expect((await runCli(['approve', runId, '--by', 'ana'], env, 60_000)).code).toBe(0);
  const result = (await conn.client.workflow.getHandle(runId).result()) as RunResult;
  expect(result.status).toBe('completed');
  expect(result.gates.map((g) => `${g.kind} ${g.state} ${g.decision?.by}`)).toEqual([
    'plan approved ana',
    'ticket approved ana',
    'final timed-out timeout-policy',
  ]);

  // Gate waits: one observation per gate, labelled by kind, outcome and who decided, in seconds.
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const gateLine = (suffix: string, labels: string[]) => {
    const lines = metrics
      .split('\n')
      .filter(
        (l) =>
          l.startsWith(`maestro_gate_wait_seconds${suffix}{`) &&
          l.includes(`task_queue="${taskQueue}"`) &&
          labels.every((x) => l.includes(x)),
      );
    expect(lines).toHaveLength(1);
    return Number(lines[0]!.split(' ').pop());
  };
  const plan = ['kind="plan"', 'outcome="approve"', 'decided_by="person"'];
  const ticket = ['kind="ticket"', 'outcome="approve"', 'decided_by="person"'];
  const final = ['kind="final"', 'outcome="approve"', 'decided_by="timeout-policy"'];
  for (const labels of [plan, ticket, final]) expect(gateLine('_count', labels)).toBe(1);
  expect(gateLine('_sum', plan)).toBeGreaterThanOrEqual(1.5);
  expect(gateLine('_sum', plan)).toBeLessThan(60);
  expect(gateLine('_sum', ticket)).toBeGreaterThanOrEqual(0.5);
  expect(gateLine('_sum', ticket)).toBeLessThan(60);
  expect(gateLine('_sum', final)).toBeGreaterThanOrEqual(1);
  expect(gateLine('_sum', final)).toBeLessThan(30);
  // Buckets for human waits (seconds to days), not the SDK's millisecond defaults.
  expect(gateLine('_bucket', [...final, 'le="1"'])).toBe(0);
  expect(gateLine('_bucket', [...final, 'le="30"'])).toBe(1);
  expect(gateLine('_bucket', [...final, 'le="259200"'])).toBe(1);

  // Spans: each agent turn is invoke_agent <role>, each tool call execute_tool <tool>, in the run's trace.
  const { run, inRun } = await spansOfRun(runId);
  // With the client's calls: the start and both decisions (`maestro approve`, the decide update).
  expect(inRun.filter((s) => s.name === 'StartWorkflow:orchestratorWorkflow')).toHaveLength(1);
  const decisions = inRun.filter((s) => s.name === 'StartWorkflowUpdate:decide');
  expect(decisions).toHaveLength(2);
  for (const d of decisions)
    expect(d).toMatchObject({ parentSpanId: run.spanId, attrs: { temporalWorkflowId: runId } });
  const loopId = `${runId}/T1/agent-1`;
  const role = result.plan.tickets[0]!.role;
  const turns = inRun.filter((s) => s.attrs['gen_ai.conversation.id'] === loopId && s.name.startsWith('invoke_agent'));
  expect(turns.map((s) => s.name)).toEqual(Array(turns.length).fill(`invoke_agent ${role}`));
  expect(turns.map((s) => s.attrs['maestro.agent.turn']).sort()).toEqual(
    Array.from({ length: turns.length }, (_, i) => i + 1),
  );
  const tools = inRun.filter((s) => s.name.startsWith('execute_tool '));
  const calls = result.toolCalls ?? [];
  expect(calls.length).toBeGreaterThanOrEqual(2);
  expect(tools.map((s) => s.name).sort()).toEqual(calls.map((c) => `execute_tool ${c.tool}`).sort());
  for (const t of tools) {
    expect(t.parentSpanId).toBe(run.spanId);
    const call = calls.find((c) => c.tool === t.attrs['gen_ai.tool.name'] && c.turn === t.attrs['maestro.agent.turn'])!;
    expect(t.attrs).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.agent.name': role,
      'gen_ai.conversation.id': loopId,
      'maestro.ticket.id': 'T1',
      'maestro.tool.status': call.status,
      'maestro.tool.duration_ms': call.durationMs,
    });
    expect(String(t.attrs['gen_ai.tool.call.id'])).not.toBe('');
  }
});
