/**
 * Telemetry that sees every LLM call, whoever makes it: the Boss's structured calls, the agent
 * loops of the demo's coder and tester, and a coding-agent CLI's calls through the LLM gateway.
 * A `maestro worker --metrics` process traces to an OTLP receiver in this test; the number of
 * `chat` spans, the metrics' call counts and their token totals must equal what the simulated
 * LLM itself counted. A run that fails or is cancelled still exports its root span. The metrics
 * and spans follow the OpenTelemetry GenAI and Prometheus naming conventions (checked on the
 * worker's real Prometheus endpoint).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { RunResult } from '../../src/shared/types';
import { cleanEnv, runCli } from '../helpers/cli';
import {
  labelNames,
  OTLP_KIND,
  OTLP_STATUS,
  promLines,
  promSum,
  spansOfRun,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver';
import { waitForStatus } from '../helpers/runs';
import { connectTest, testAddress, uniqueQueue, type TestConnection } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const GOAL = 'Build a landing page for a record store called Groove';
const DEMO_CONFIG = path.resolve(__dirname, '../../examples/demo.config.json');
const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');

let sim: SimLlm;
let receiver: OtlpReceiver;
let conn: TestConnection;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
  conn = await connectTest();
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  await conn?.close();
  await sim?.close();
  receiver?.close();
});

/** A `maestro worker` serving metrics on a port of its own, tracing to the receiver; its env and metrics URL. */
async function startWorker(name: string, extra: NodeJS.ProcessEnv = {}) {
  const taskQueue = uniqueQueue(name);
  const metricsPort = await freePort('127.0.0.1');
  const env = cleanEnv({
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_MODEL: 'maestro-sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-otel-every-')),
    MAESTRO_LOG_LEVEL: 'ERROR',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    ...extra,
  });
  workers.push(await spawnWorker(env, ['--metrics', `127.0.0.1:${metricsPort}`]));
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return { taskQueue, env, scrape, runId: `${taskQueue}-run` };
}

/** The `le` bounds of a histogram's buckets (one label set), without +Inf. */
function bucketBounds(metrics: string, name: string, labels: Record<string, string>): number[] {
  const lines = promLines(metrics, `${name}_bucket`, labels);
  const noLe = (l: string) => l.replace(/([{,])le="[^"]*"/, '$1').replace(/ \S+$/, '');
  const first = lines[0] && noLe(lines[0]);
  return lines
    .filter((l) => noLe(l) === first)
    .map((l) => /[{,]le="([^"]+)"/.exec(l)![1]!)
    .filter((le) => le !== '+Inf')
    .map(Number);
}

/**
 * The run's spans and metrics against the simulator's own count: one `chat` span (kind CLIENT,
 * GenAI attributes) and one metrics observation per request the simulator answered, with the
 * same tokens per role as the run's call records and the simulator's usage.
 */
async function expectEveryCallObserved(
  runId: string,
  taskQueue: string,
  metrics: string,
  result: Pick<RunResult, 'calls'>,
): Promise<ReceivedSpan[]> {
  const requests = sim.requests();
  expect(requests.length).toBeGreaterThan(0);
  expect(result.calls).toHaveLength(requests.length);

  const { inRun } = await spansOfRun(receiver, runId);
  const chats = inRun.filter((s) => s.name.startsWith('chat '));
  expect(chats).toHaveLength(requests.length);
  const ids = new Set(inRun.map((s) => s.spanId));
  for (const c of chats) {
    expect(ids.has(c.parentSpanId!)).toBe(true); // under its activity's span, in the run's trace
    expect(c.kind).toBe(OTLP_KIND.client);
    expect(c.attrs).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'maestro-sim',
    });
    expect(c.attrs['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    expect(c.attrs['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
  }

  // Metrics: the calls (count of the duration histogram) and the tokens, per role and in all.
  const q = { task_queue: taskQueue };
  expect(promSum(promLines(metrics, 'maestro_llm_operation_duration_seconds_count', q))).toBe(requests.length);
  const roles = [...new Set(result.calls.map((c) => c.role))];
  for (const role of roles) {
    const mine = result.calls.filter((c) => c.role === role);
    const labels = { ...q, role };
    expect([role, promSum(promLines(metrics, 'maestro_llm_operation_duration_seconds_count', labels))]).toEqual([
      role,
      mine.length,
    ]);
    expect([role, promSum(promLines(metrics, 'maestro_llm_input_tokens_total', labels))]).toEqual([
      role,
      mine.reduce((n, c) => n + c.promptTokens, 0),
    ]);
    expect([role, promSum(promLines(metrics, 'maestro_llm_output_tokens_total', labels))]).toEqual([
      role,
      mine.reduce((n, c) => n + c.completionTokens, 0),
    ]);
    expect(chats.filter((c) => c.attrs['gen_ai.agent.name'] === role)).toHaveLength(mine.length);
  }
  const simPrompt = requests.reduce((n, r) => n + (r.usage?.prompt_tokens ?? 0), 0);
  expect(promSum(promLines(metrics, 'maestro_llm_input_tokens_total', q))).toBe(simPrompt);
  return chats;
}

it('counts every LLM call of the demo (Boss and agent loops) in spans and metrics, as the simulator does', async () => {
  sim.clearRequests();
  const w = await startWorker('otel-every', { MAESTRO_CONFIG: DEMO_CONFIG });
  const started = await runCli(['start', GOAL, '--run-id', w.runId], w.env, 60_000);
  expect(started.code).toBe(0);
  const result = (await conn.client.workflow.getHandle(w.runId).result()) as RunResult;
  expect(result.status).toBe('completed');
  // The demo's agent roles made calls of their own (several turns each).
  for (const role of ['coder', 'tester']) expect(result.calls.filter((c) => c.role === role).length).toBeGreaterThan(1);

  const metrics = await w.scrape();
  const chats = await expectEveryCallObserved(w.runId, w.taskQueue, metrics, result);
  expect(new Set(chats.map((c) => c.attrs['gen_ai.agent.name']))).toEqual(new Set(result.calls.map((c) => c.role)));
}, 240_000);

it('names metrics, labels and spans by the GenAI and Prometheus conventions (scraped from the worker)', async () => {
  sim.clearRequests();
  const w = await startWorker('otel-conventions');
  const started = await runCli(['start', GOAL, '--run-id', w.runId], w.env, 60_000);
  expect(started.code).toBe(0);
  const result = (await conn.client.workflow.getHandle(w.runId).result()) as RunResult;
  expect(result.status).toBe('completed');
  const metrics = await w.scrape();
  const { inRun } = await spansOfRun(receiver, w.runId);
  const chats = inRun.filter((s) => s.name.startsWith('chat '));
  expect(chats.length).toBeGreaterThan(0);
  // chat spans: a request to the provider (CLIENT), with the provider's name.
  expect(chats.map((c) => [c.kind, c.attrs['gen_ai.provider.name']])).toEqual(
    chats.map(() => [OTLP_KIND.client, 'openai']),
  );

  // Prometheus conventions: snake_case label names on every Maestro metric.
  const maestroLines = metrics.split('\n').filter((l) => l.startsWith('maestro_'));
  expect(maestroLines.length).toBeGreaterThan(0);
  const badLabels = new Set(maestroLines.flatMap(labelNames).filter((n) => !/^[a-z][a-z0-9_]*$/.test(n)));
  expect([...badLabels]).toEqual([]);
  const q = { task_queue: w.taskQueue, role: 'boss' };
  // GenAI attributes as labels, the way an OTLP-to-Prometheus translation spells them.
  const genAi = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_request_model: 'maestro-sim' };
  expect(promLines(metrics, 'maestro_llm_operation_duration_seconds_count', { ...q, ...genAi }).length).toBeGreaterThan(
    0,
  );
  // Cost buckets for per-call costs (10 µ$ .. 10 $), not the SDK's 50..10,000.
  const cost = bucketBounds(metrics, 'maestro_llm_cost_usd', q);
  expect(Math.min(...cost)).toBeCloseTo(0.00001, 8);
  expect(Math.max(...cost)).toBe(10);
  const costCount = promSum(promLines(metrics, 'maestro_llm_cost_usd_count', q));
  const leOf = (l: string) => Number(/[{,]le="([^"]+)"/.exec(l)![1]);
  const firstBucket = promSum(
    promLines(metrics, 'maestro_llm_cost_usd_bucket', q).filter((l) => leOf(l) === Math.min(...cost)),
  );
  expect(firstBucket).toBeLessThan(costCount); // the calls spread over the buckets
  // Latency in seconds: buckets from well under a second to minutes, and a plausible mean.
  const secs = bucketBounds(metrics, 'maestro_llm_operation_duration_seconds', q);
  expect(Math.min(...secs)).toBeLessThanOrEqual(0.1);
  expect(Math.max(...secs)).toBeGreaterThanOrEqual(300);
  const sum = promSum(promLines(metrics, 'maestro_llm_operation_duration_seconds_sum', q));
  const count = promSum(promLines(metrics, 'maestro_llm_operation_duration_seconds_count', q));
  expect(sum / count).toBeGreaterThan(0);
  expect(sum / count).toBeLessThan(30);

  // The root span: an ended run, status not an error.
  const { run } = await spansOfRun(receiver, w.runId);
  expect(run).toMatchObject({ attrs: { 'maestro.run.outcome': 'completed' } });
  expect(run!.status.code).not.toBe(OTLP_STATUS.error);
}, 240_000);

it('counts the calls a coding-agent CLI makes through the LLM gateway', async () => {
  sim.clearRequests();
  // Every worker role a stand-in coding-agent CLI that asks the gateway for its files.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-otel-executor-'));
  const config = path.join(dir, 'maestro.config.json');
  const executor = { agent: 'custom', command: process.execPath, args: [FAKE_CLI, 'agent'], wallMs: 60_000 };
  writeFileSync(
    config,
    JSON.stringify({ roles: ['designer', 'writer', 'coder', 'tester'].map((name) => ({ name, executor })) }),
  );
  const w = await startWorker('otel-executor', { MAESTRO_CONFIG: config, MAESTRO_TRUST_CONFIG: config });
  const started = await runCli(
    ['start', 'Write a short guide to pruning roses [sim:tickets=1]', '--run-id', w.runId],
    w.env,
    60_000,
  );
  expect(started.code).toBe(0);
  const result = (await conn.client.workflow.getHandle(w.runId).result()) as RunResult;
  expect(result.status).toBe('completed');
  const viaGateway = result.calls.filter((c) => c.executor === 'custom');
  expect(viaGateway.length).toBeGreaterThan(0);
  const chats = await expectEveryCallObserved(w.runId, w.taskQueue, await w.scrape(), result);
  const role = result.plan.tickets[0]!.role;
  expect(chats.filter((c) => c.attrs['gen_ai.agent.name'] === role).length).toBeGreaterThanOrEqual(viaGateway.length);
}, 240_000);

it('exports the root span of a run that fails, and of one that is cancelled', async () => {
  sim.clearRequests();
  const w = await startWorker('otel-ending');
  // Planning fails: the model refuses every request with 401.
  sim.injectFault({ kind: 'unauthorized', times: 50 });
  const failedId = `${w.runId}-failed`;
  expect((await runCli(['start', GOAL, '--run-id', failedId], w.env, 60_000)).code).toBe(0);
  await expect(conn.client.workflow.getHandle(failedId).result()).rejects.toThrow();
  sim.clearFaults();
  const failed = await spansOfRun(receiver, failedId);
  expect(failed.run).toBeDefined();
  expect(failed.run!.status.code).toBe(OTLP_STATUS.error);
  // The reason, not Temporal's wrapping ("Activity task failed").
  expect(failed.run!.status.message).toMatch(/401/);
  expect(failed.run!.attrs['maestro.run.outcome']).toBe('failed');
  const plan = failed.inRun.find((s) => s.name === 'plan');
  expect(plan?.parentSpanId).toBe(failed.run!.spanId);
  // Failed calls are chat spans too (error.type set), one per request the simulator saw.
  const chats = failed.inRun.filter((s) => s.name.startsWith('chat '));
  expect(chats).toHaveLength(sim.requests().length);
  for (const c of chats) expect(c.attrs['error.type']).toEqual(expect.any(String));

  // Cancelled while its plan waits for a person.
  const cancelledId = `${w.runId}-cancelled`;
  expect(
    (await runCli(['start', GOAL, '--run-id', cancelledId, '--plan-approval', 'manual'], w.env, 60_000)).code,
  ).toBe(0);
  await waitForStatus(conn.client, cancelledId, (s) => s.pendingGates.some((g) => g.kind === 'plan'), 60_000);
  await conn.client.workflow.getHandle(cancelledId).cancel();
  await conn.client.workflow
    .getHandle(cancelledId)
    .result()
    .catch(() => undefined);
  const cancelled = await spansOfRun(receiver, cancelledId);
  expect(cancelled.run).toBeDefined();
  expect(cancelled.run!.attrs['maestro.run.outcome']).toBe('cancelled');
  expect(cancelled.inRun.find((s) => s.name === 'plan')?.parentSpanId).toBe(cancelled.run!.spanId);
}, 240_000);
