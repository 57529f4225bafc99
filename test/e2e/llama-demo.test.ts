/**
 * The demo's agents on the real llama.cpp engine (issue 23, "Done when"): the demo's roles
 * (examples/demo.config.json: Boss, designer, writer, and the coder and tester agents with their
 * tools) against `npm run llama-engine` serving SmolLM2-135M-Instruct on one thread, every call
 * served by the engine. A 135M model cannot plan or code well, so the tests do not ask for
 * success: they ask that a run ends by itself (output caps, turn, revision, re-plan and retry
 * limits and a token budget keep it to a few minutes), that what it reports matches what happened
 * (no ticket accepted without its files, failed work never reported as success), and that the
 * bill is honest: Maestro's calls and tokens equal the requests and token counts the engine logged
 * (one line per request), and the cost is the configured price of the local model on them.
 *
 * Two tests, because this model's Boss produces no valid plan (the grammar holds it to at least one
 * ticket, and it writes on until its output cap): `maestro run` of the demo, which ends failed in
 * planning, cut off, after its re-plan, and the demo's
 * Coder agent on the demo's coder ticket (a ticket child workflow on a worker built from the same
 * configuration, reviewed by the Boss on the engine), which proves the tool path: its tool calls
 * come from the engine's grammar-constrained `tool_calls` answers.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { roleInfoOf } from '../../src/shared/roles';
import type { Ticket } from '../../src/shared/schemas';
import type { LlmCallRecord, TicketInput, TicketOutcome } from '../../src/shared/types';
import type { ToolCallRecord } from '../../src/shared/tools';
import { activityDepsFromConfig } from '../../src/workers/activity-deps';
import { cleanEnv, runCli } from '../helpers/cli';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';
import { connectTest, testAddress, testWorker, uniqueQueue, type TestConnection } from '../helpers/temporal';

jest.setTimeout(600_000);

const REPO = path.resolve(__dirname, '..', '..');
/** The local model's price in this test (USD per million tokens): not zero, so the bill is checked. */
const PRICE = { input: 0.02, cachedInput: 0.02, output: 0.05 };

let engine: EngineProcess;
let conn: TestConnection;
/** The id the engine answers with (the loaded file's model name). */
let model: string;
beforeAll(async () => {
  engine = await startEngineProcess({ args: ['--parallel', '1', '--queue', '8', '--max-tokens', '256'] });
  conn = await connectTest();
  const models = (await (await fetch(`${engine.baseUrl}/models`)).json()) as { data: { id: string }[] };
  model = models.data[0]!.id;
});
afterAll(async () => {
  await conn?.close();
  await engine?.stop();
});

/** One request the engine logged (server.ts writes one line per request to stderr). */
interface EngineRequest {
  status: number;
  promptTokens: number;
  completionTokens: number;
  /** finish_reason of an answered request (tool_calls, stop, length). */
  finish?: string;
}

function engineRequests(stderr: string): EngineRequest[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('llama-engine: POST /v1/chat/completions'))
    .map((l) => ({
      status: Number(/ status=(\d+)/.exec(l)?.[1] ?? 200),
      promptTokens: Number(/ prompt_tokens=(\d+)/.exec(l)?.[1] ?? 0),
      completionTokens: Number(/ completion_tokens=(\d+)/.exec(l)?.[1] ?? 0),
      finish: / finish=(\w+)/.exec(l)?.[1],
    }));
}

/** The engine's log from `from` (a length of its stderr) on. */
const logSince = (from: number) => engine.stderr().slice(from);

/** The config file of the demo's roles and tools with limits for a 135M model on one CPU thread. */
function demoConfigFile(home: string): string {
  const demo = JSON.parse(readFileSync(path.join(REPO, 'examples', 'demo.config.json'), 'utf8')) as {
    roles: Record<string, unknown>[];
  };
  const config = {
    roles: demo.roles.map((r) => ({
      ...r,
      maxTokens: 192,
      ...(r.tools ? { maxTurns: 3 } : {}),
      retry: { maximumAttempts: 2, initialIntervalMs: 500 },
    })),
    boss: { maxTokens: 256 },
    prices: { [model]: PRICE },
  };
  const file = path.join(home, 'maestro.config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** The environment of a run on the engine: every call of the Boss and of every role goes there. */
function engineEnv(home: string): NodeJS.ProcessEnv {
  return cleanEnv({
    MAESTRO_CONFIG: demoConfigFile(home),
    MAESTRO_HOME: home,
    TEMPORAL_ADDRESS: testAddress(),
    MAESTRO_TASK_QUEUE: uniqueQueue('llama-demo'),
    OPENAI_BASE_URL: engine.baseUrl,
    MAESTRO_MODEL: model,
    // A call's cap at this engine's slowest (about 5 tokens/s on a shared core) fits in it.
    MAESTRO_LLM_TIMEOUT_MS: '90000',
    // One repair per answer, no fresh attempts: a 135M model answers the same way again.
    MAESTRO_LLM_CONTENT_RETRIES: '0',
  });
}

/** The bill the engine's log implies: requests, tokens, and dollars at the configured price. */
function engineBill(log: string) {
  const served = engineRequests(log);
  const promptTokens = served.reduce((n, r) => n + r.promptTokens, 0);
  const completionTokens = served.reduce((n, r) => n + r.completionTokens, 0);
  return {
    requests: served.length,
    answered: served.filter((r) => r.status === 200).length,
    toolCallAnswers: served.filter((r) => r.finish === 'tool_calls').length,
    promptTokens,
    completionTokens,
    usd: (promptTokens * PRICE.input + completionTokens * PRICE.output) / 1e6,
  };
}

interface StatusJson {
  phase: string;
  outcome?: string;
  error?: string;
  tickets: { id: string; role: string; state: string }[];
  cost: { usd: number; usage: { promptTokens: number; completionTokens: number; calls: number; usd: number } };
  toolCalls?: ToolCallRecord[];
}

it('the demo on the llama.cpp engine: ends by itself, reports what happened, bills what the engine served', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-llama-demo-'));
  const env = engineEnv(home);
  const runId = `llama-demo-${process.pid}`;
  const from = engine.stderr().length;
  const t0 = Date.now();
  const res = await runCli(
    [
      'run',
      'Build a landing page for a coffee shop called Bean There',
      '--yes',
      '--run-id',
      runId,
      '--max-parallel',
      '1',
      '--max-revisions',
      '0',
      '--max-replans',
      '1',
      '--max-reopens',
      '0',
      // Bounds the run whatever the model plans: the budget gate stops it (--yes).
      '--budget-tokens',
      '25000',
    ],
    env,
    480_000,
  );
  const runMs = Date.now() - t0;
  const statusRes = await runCli(['status', runId, '--json'], env, 60_000);
  expect(statusRes.code).toBe(0);
  const status = JSON.parse(statusRes.stdout) as StatusJson;
  const bill = engineBill(logSince(from));
  process.stdout.write(
    `llama demo: ${runMs} ms, exit ${res.code}, outcome ${status.outcome}, ${status.tickets.length} ticket(s), ` +
      `${bill.requests} engine request(s), ${bill.promptTokens}+${bill.completionTokens} tokens, $${status.cost.usd}\n` +
      `${res.stdout}\n${res.stderr}\n`,
  );

  // It ended by itself, and says how.
  expect(status.phase).toMatch(/^(completed|failed|cancelled)$/);
  expect(status.outcome).toBeDefined();
  const accepted = status.tickets.filter((t) => t.state === 'accepted');
  if (status.outcome === 'completed') {
    expect(res.code).toBe(0);
    expect(accepted).toHaveLength(status.tickets.length);
  } else {
    // Failed work is never reported as success.
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain('Result: completed');
  }
  if (status.outcome === 'failed') expect(status.error).toBeTruthy();
  if (status.tickets.length === 0) {
    // No plan: the CLI says so and nothing was accepted or assembled.
    expect(`${res.stdout}${res.stderr}`).toMatch(/failed: the Boss produced no valid plan/);
  }
  // Every accepted ticket's files exist where the run assembled them.
  if (accepted.length > 0) {
    const result = await runCli(['result', runId, '--json', '--out', path.join(home, 'out')], env, 60_000);
    const json = JSON.parse(result.stdout) as { manifest: { path: string; ticketId?: string }[] };
    for (const f of json.manifest) expect(existsSync(path.join(home, 'out', f.path))).toBe(true);
  }

  // The bill: Maestro's calls are the engine's requests, its tokens the engine's, at the configured price.
  expect(bill.requests).toBeGreaterThan(0);
  expect(status.cost.usage.calls).toBe(bill.requests);
  expect(status.cost.usage.promptTokens).toBe(bill.promptTokens);
  expect(status.cost.usage.completionTokens).toBe(bill.completionTokens);
  expect(status.cost.usd).toBeCloseTo(bill.usd, 5);
  // Tool calls, if any ticket ran: only agents' (coder, tester) calls, each recorded with its turn.
  for (const call of status.toolCalls ?? []) expect(['coder', 'tester']).toContain(call.role);
}, 600_000);

/** The demo's Coder ticket (the simulated demo plan's T3, without its dependencies). */
const CODER_TICKET: Ticket = {
  id: 'T3',
  role: 'coder',
  title: 'Build the landing page',
  spec: [
    'Build the one-page website of Bean There, a coffee shop.',
    'Deliver the file `index.html` (write it with the write_file tool): HTML5 with <!doctype html>, <html lang="en">, a <title> naming Bean There, a header, a menu section with three drinks and a footer.',
  ].join('\n'),
  acceptanceCriteria: ['index.html is HTML5 with doctype, lang and a title naming Bean There'],
  dependsOn: [],
};

it("the demo's Coder agent on the llama.cpp engine: calls tools through it, ends honestly, bills what the engine served", async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-llama-coder-'));
  const config = loadConfig(engineEnv(home), home);
  const coder = config.roles.find((r) => r.name === 'coder')!;
  expect(coder.agent?.tools).toEqual(['list_files', 'read_file', 'write_file', 'check_page']);
  const taskQueue = uniqueQueue('llama-coder');
  const worker = await testWorker(conn.nativeConnection, taskQueue, activityDepsFromConfig(config));
  const running = worker.run();
  const from = engine.stderr().length;
  const t0 = Date.now();
  let outcome: TicketOutcome | undefined;
  let calls: LlmCallRecord[];
  try {
    const input: TicketInput = {
      runId: `llama-coder-${process.pid}`,
      ticket: CODER_TICKET,
      role: roleInfoOf(coder),
      dependencies: [],
      maxRevisions: 0,
      bossModel: model,
      llmTimeoutMs: config.llm.timeoutMs,
    };
    const handle = await conn.client.workflow.start('ticketWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-T3`,
      args: [input],
    });
    try {
      outcome = (await handle.result()) as TicketOutcome;
      calls = outcome.calls ?? [];
    } catch (err) {
      // A failed ticket lists every call it made in its failure's details (workflows/failures.ts).
      if (!(err instanceof WorkflowFailedError)) throw err;
      const details = (err.cause as { details?: { calls?: LlmCallRecord[] }[] } | undefined)?.details;
      calls = details?.[0]?.calls ?? [];
      process.stdout.write(`the Coder's ticket failed: ${err.cause?.message ?? err.message}\n`);
    }
  } finally {
    worker.shutdown();
    await running;
  }
  const bill = engineBill(logSince(from));
  const tools = outcome?.toolCalls ?? [];
  process.stdout.write(
    `llama coder: ${Date.now() - t0} ms, ${outcome?.status ?? 'failed'} after ${outcome?.attempts ?? '?'} attempt(s), ` +
      `${calls.length} call(s), ${bill.requests} engine request(s), tools: ${tools.map((t) => `${t.summary} (${t.status})`).join('; ')}\n`,
  );

  // The tool path: the agent called at least one tool, and the engine answered those turns as tool calls.
  expect(tools.length).toBeGreaterThan(0);
  expect(bill.toolCallAnswers).toBeGreaterThan(0);
  // Every turn with recorded tool calls was a tool-call answer of the engine (a retried attempt's may be unrecorded).
  expect(bill.toolCallAnswers).toBeGreaterThanOrEqual(new Set(tools.map((t) => `${t.attempt}:${t.turn}`)).size);
  expect(tools.every((t) => t.role === 'coder' && t.ticketId === 'T3')).toBe(true);
  const work = calls.filter((c) => c.kind === 'work');
  expect(work.length).toBeGreaterThan(0);
  expect(work.length).toBeLessThanOrEqual(3 * 2); // maxTurns per attempt, two activity attempts at most
  // An accepted ticket has its files, each the bytes it claims; escalation is reported as such.
  if (outcome?.status === 'accepted') {
    expect(outcome.artifacts.length).toBeGreaterThan(0);
    for (const a of outcome.artifacts) {
      const bytes = readFileSync(fileURLToPath(a.uri));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
    }
  } else if (outcome) {
    expect(outcome.status).toBe('escalated');
    expect(outcome.escalationReason ?? outcome.summary).toBeTruthy();
  }
  // The bill: every call is one engine request, with the engine's own token counts and the local price.
  expect(calls.length).toBe(bill.requests);
  const sum = (f: (c: LlmCallRecord) => number) => calls.reduce((n, c) => n + f(c), 0);
  expect(sum((c) => c.promptTokens)).toBe(bill.promptTokens);
  expect(sum((c) => c.completionTokens)).toBe(bill.completionTokens);
  expect(sum((c) => c.usd)).toBeCloseTo(bill.usd, 5);
  expect(calls.every((c) => c.model === model && c.estimated !== true)).toBe(true);
}, 400_000);
