/**
 * The fault matrix of the LLM layer: one ticket workflow per injected fault, on the suite's
 * Temporal dev server, with the real activities calling the simulated LLM over HTTP. Each test
 * checks what a user would notice: how many requests were made, the wait between them (from the
 * simulated server's request log and the activity's call records), the failure type and the
 * message. The role's own retry policy keeps the retries short.
 */
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { type FaultSpec, type SimRequestRecord } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { FailureType } from '../../src/shared/errors';
import type { LlmCallRecord, RoleInfo, TicketInput, TicketOutcome } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';
import { WRITER_TICKET } from '../helpers/ticket-fixtures';

/** HTTP timeout of the workers in this file: a hung request is cut off after it. */
const HTTP_TIMEOUT_MS = 1500;
/** The role's first retry interval (backoff coefficient 1: every retry waits this long). */
const RETRY_MS = 300;

const role: RoleInfo = {
  name: 'writer',
  description: 'Copy and documentation',
  retry: { initialIntervalMs: RETRY_MS, backoffCoefficient: 1, maximumAttempts: 4 },
};

const ticket = WRITER_TICKET;

const harness = useSimAndTemporal({ port: 0 });
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('llm-faults');

beforeAll(async () => {
  const llm = new StructuredLlm({ baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: HTTP_TIMEOUT_MS });
  worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl, { llm }));
  running = worker.run();
});
harness.beforeClose(async () => {
  worker?.shutdown();
  await running;
});

interface TicketRun {
  outcome?: TicketOutcome;
  failure?: ApplicationFailure;
  /** The work requests the simulated LLM received, oldest first. */
  work: SimRequestRecord[];
  /** The work calls the activity recorded. */
  calls: LlmCallRecord[];
}

async function runTicket(name: string, faults: FaultSpec[]): Promise<TicketRun> {
  harness.sim.clearFaults();
  harness.sim.clearRequests();
  for (const f of faults) harness.sim.injectFault({ ...f, match: { schemaName: SCHEMA_NAMES.work } });
  const input: TicketInput = { runId: `llm-faults-${name}`, ticket, role, dependencies: [], maxRevisions: 0 };
  const handle = await harness.conn.client.workflow.start('ticketWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-${name}`,
    args: [input],
  });
  const work = () => harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work);
  try {
    const outcome = (await handle.result()) as TicketOutcome;
    return { outcome, work: work(), calls: (outcome.calls ?? []).filter((c) => c.kind === 'work') };
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // The ticket fails with its activity's failure type and message and lists every call it made
    // (here all of them the failed activity's); the activity's own failure is its cause.
    const ticketFailure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(ticketFailure).toBeInstanceOf(ApplicationFailure);
    const activity = ticketFailure.cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const failure = activity!.cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect({ type: ticketFailure.type, message: ticketFailure.message }).toEqual({
      type: failure.type,
      message: failure.message,
    });
    const details = (failure.details?.[0] ?? {}) as { calls?: LlmCallRecord[] };
    const listed = (ticketFailure.details?.[0] ?? {}) as { calls?: LlmCallRecord[]; wholeTicket?: boolean };
    expect(listed).toEqual({ calls: details.calls ?? [], wholeTicket: true });
    return { failure, work: work(), calls: details.calls ?? [] };
  }
}

/** Milliseconds between the starts of two requests, as the simulated server logged them. */
function gap(a: SimRequestRecord, b: SimRequestRecord): number {
  return Date.parse(b.at) - Date.parse(a.at);
}

function callGap(a: LlmCallRecord, b: LlmCallRecord): number {
  return Date.parse(b.startedAt) - Date.parse(a.startedAt);
}

describe('LLM fault matrix (ticket workflow, simulated LLM)', () => {
  it('rate limit: waits the retry-after the server asked for, not the backoff, then succeeds', async () => {
    const { outcome, work, calls } = await runTicket('rate-limit', [{ kind: 'rate-limit', retryAfterMs: 1500 }]);
    expect(outcome?.status).toBe('accepted');
    expect(work.map((r) => r.status)).toEqual([429, 200]);
    expect(gap(work[0]!, work[1]!)).toBeGreaterThanOrEqual(1500 - 50);
    expect(gap(work[0]!, work[1]!)).toBeLessThan(1500 + 1500);
    // The failed attempt's call is kept (heartbeat details) with its failure type.
    expect(calls.map((c) => [c.attempt, c.error])).toEqual([
      [1, FailureType.LlmRateLimited],
      [2, undefined],
    ]);
    expect(callGap(calls[0]!, calls[1]!)).toBeGreaterThanOrEqual(1500 - 50);
  });

  it.each([
    ['server-error', 500],
    ['bad-gateway', 502],
  ] as const)('%s: retried after the role backoff, then succeeds', async (kind, status) => {
    const { outcome, work, calls } = await runTicket(kind, [{ kind }]);
    expect(outcome?.status).toBe('accepted');
    expect(work.map((r) => r.status)).toEqual([status, 200]);
    expect(gap(work[0]!, work[1]!)).toBeGreaterThanOrEqual(RETRY_MS - 50);
    expect(gap(work[0]!, work[1]!)).toBeLessThan(RETRY_MS + 1500);
    expect(calls.map((c) => [c.attempt, c.error])).toEqual([
      [1, FailureType.LlmUnavailable],
      [2, undefined],
    ]);
  });

  it('dropped connection: retried after the backoff, then succeeds', async () => {
    const { outcome, work, calls } = await runTicket('drop', [{ kind: 'drop' }]);
    expect(outcome?.status).toBe('accepted');
    expect(work.map((r) => r.fault ?? 'ok')).toEqual(['drop', 'ok']);
    expect(gap(work[0]!, work[1]!)).toBeGreaterThanOrEqual(RETRY_MS - 50);
    expect(calls.map((c) => [c.attempt, c.error])).toEqual([
      [1, FailureType.LlmUnavailable],
      [2, undefined],
    ]);
  });

  it('hung server: cut off by the HTTP timeout (the server sees the client leave), then retried', async () => {
    const { outcome, work, calls } = await runTicket('hang', [{ kind: 'hang' }]);
    expect(outcome?.status).toBe('accepted');
    expect(work.map((r) => r.status)).toEqual([499, 200]);
    expect(work[0]!.durationMs).toBeGreaterThanOrEqual(HTTP_TIMEOUT_MS - 50);
    expect(work[0]!.durationMs).toBeLessThan(HTTP_TIMEOUT_MS + 1500);
    expect(gap(work[0]!, work[1]!)).toBeGreaterThanOrEqual(HTTP_TIMEOUT_MS + RETRY_MS - 50);
    expect(calls[0]).toMatchObject({ attempt: 1, error: FailureType.LlmUnavailable });
    expect(calls[0]!.latencyMs).toBeGreaterThanOrEqual(HTTP_TIMEOUT_MS - 50);
  });

  it('malformed JSON: repaired inside the same attempt by showing the model its error', async () => {
    const { outcome, work, calls } = await runTicket('malformed', [{ kind: 'malformed-json' }]);
    expect(outcome?.status).toBe('accepted');
    expect(work).toHaveLength(2);
    const repair = work[1]!.messages.at(-1)!.content;
    expect(repair).toContain('Your answer was not valid: the answer is not JSON');
    expect(calls.map((c) => [c.attempt, c.repaired, c.error])).toEqual([
      [1, false, FailureType.LlmBadOutput],
      [1, true, undefined],
    ]);
    // Both calls are paid for and counted in the ticket's usage.
    expect(calls.every((c) => c.promptTokens > 0 && c.completionTokens > 0)).toBe(true);
    expect(outcome!.workUsage.calls).toBe(2);
    expect(outcome!.workUsage.promptTokens).toBe(calls[0]!.promptTokens + calls[1]!.promptTokens);
  });

  it('schema-invalid twice: the repair fails too, so the activity is retried and succeeds', async () => {
    const { outcome, work, calls } = await runTicket('schema', [{ kind: 'schema-invalid', times: 2 }]);
    expect(outcome?.status).toBe('accepted');
    expect(work.map((r) => r.fault ?? 'ok')).toEqual(['schema-invalid', 'schema-invalid', 'ok']);
    expect(work[1]!.messages.at(-1)!.content).toContain('the JSON does not match the schema');
    expect(gap(work[1]!, work[2]!)).toBeGreaterThanOrEqual(RETRY_MS - 50);
    expect(calls.map((c) => [c.attempt, c.repaired, c.error])).toEqual([
      [1, false, FailureType.LlmBadOutput],
      [1, true, FailureType.LlmBadOutput],
      [2, false, undefined],
    ]);
    expect(outcome!.workUsage.calls).toBe(3);
  });

  it('truncated output: retried once, then stops with what to change', async () => {
    const { failure, work, calls } = await runTicket('truncated', [{ kind: 'truncated', times: 5 }]);
    expect(work).toHaveLength(2);
    expect(failure?.type).toBe(FailureType.LlmTruncated);
    expect(failure?.message).toContain('the answer was cut off at the output-token limit');
    expect(failure?.message).toContain('raise "maxTokens" of role writer in maestro.config.json');
    expect(calls.map((c) => [c.attempt, c.error])).toEqual([
      [1, FailureType.LlmTruncated],
      [2, FailureType.LlmTruncated],
    ]);
  });

  it('refusal: its own failure type, not retried', async () => {
    const { failure, work } = await runTicket('refusal', [{ kind: 'refusal', times: 5 }]);
    expect(work).toHaveLength(1);
    expect(failure?.type).toBe(FailureType.LlmRefused);
    expect(failure?.message).toMatch(/writer T1 attempt 1: the model refused: .*simulated refusal/);
    expect(failure?.message).toContain('rephrase the ticket or choose another model');
  });

  it('401: not retried; the message says which key to fix', async () => {
    const { failure, work } = await runTicket('unauthorized', [{ kind: 'unauthorized', times: 5 }]);
    expect(work).toHaveLength(1);
    expect(failure?.type).toBe(FailureType.LlmConfig);
    expect(failure?.nonRetryable).toBe(true);
    expect(failure?.message).toContain('401 Incorrect API key provided');
    expect(failure?.message).toContain(`set OPENAI_API_KEY to a valid key for ${harness.sim.baseUrl}`);
  });

  it('400: not retried; the message says what to check', async () => {
    const { failure, work } = await runTicket('bad-request', [{ kind: 'bad-request', times: 5 }]);
    expect(work).toHaveLength(1);
    expect(failure?.type).toBe(FailureType.LlmConfig);
    expect(failure?.message).toContain('400 Invalid request (simulated fault)');
    expect(failure?.message).toContain('run `maestro doctor` to see which structured-output mode the model supports');
    expect(failure?.message).toContain('Not retried.');
  });
});
