/**
 * Traces and metrics of a real run: a `maestro worker --metrics` process with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP receiver in this test runs a whole run;
 * the receiver collects the spans (names, parent links, GenAI attributes) and the test scrapes
 * the worker's Prometheus endpoint for the SDK's and Maestro's metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { RunResult } from '../../src/shared/types';
import { cleanEnv, runCli } from '../helpers/cli';
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
afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  await sim?.close();
  receiver?.close();
});

it('exports GenAI spans of a run over OTLP and serves worker and Maestro metrics for Prometheus', async () => {
  const taskQueue = uniqueQueue('telemetry');
  const metricsPort = await freePort('127.0.0.1');
  const env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-otel-')),
    MAESTRO_LOG_LEVEL: 'ERROR',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
  });
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
      .filter((l) => l.startsWith(name) && l.includes(`role="${role}"`) && l.includes(`taskQueue="${taskQueue}"`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  const coderCalls = result.calls.filter((c) => c.role === 'coder');
  expect(value('maestro_llm_input_tokens_total{', 'coder')).toBe(coderCalls.reduce((n, c) => n + c.promptTokens, 0));
  expect(value('maestro_llm_output_tokens_total{', 'coder')).toBe(
    coderCalls.reduce((n, c) => n + c.completionTokens, 0),
  );
  expect(value('maestro_llm_cost_usd_sum{', 'boss')).toBeGreaterThan(0);
  expect(value('maestro_llm_latency_ms_count{', 'boss')).toBe(result.calls.filter((c) => c.role === 'boss').length);

  // Spans: one trace per run rooted at invoke_workflow, with plan, agents and chats under it.
  const deadline = Date.now() + 30_000;
  const root = () =>
    spans.find((s) => s.name === 'invoke_workflow maestro' && s.attrs['gen_ai.conversation.id'] === runId);
  while (!root() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const run = root();
  expect(run).toBeDefined();
  await new Promise((r) => setTimeout(r, 1500)); // the last batch
  const inRun = spans.filter((s) => s.traceId === run!.traceId);
  const byId = new Map(inRun.map((s) => [s.spanId, s]));
  const plan = inRun.find((s) => s.name === 'plan');
  expect(plan?.parentSpanId).toBe(run!.spanId);
  const agents = inRun.filter((s) => s.name.startsWith('invoke_agent '));
  expect(agents.map((s) => s.name)).toEqual(
    expect.arrayContaining(['invoke_agent designer', 'invoke_agent coder', 'invoke_agent boss']),
  );
  for (const a of agents) expect(a.parentSpanId).toBe(run!.spanId);
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
    expect(owner?.parentSpanId).toBe(run!.spanId);
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
