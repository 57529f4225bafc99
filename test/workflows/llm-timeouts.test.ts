/**
 * Timeouts of LLM calls come from one setting (the run's HTTP timeout of one call): the
 * activity's start-to-close fits a call and a repair, schedule-to-close bounds all attempts, and
 * a call that times out is billed by its (estimated) prompt tokens. On the suite's dev server
 * with the simulated LLM, whose worker is configured with a much longer HTTP timeout than the run.
 */
import type { Worker } from '@temporalio/worker';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { FailureType } from '../../src/shared/errors';
import { activityTimeoutMs, attemptTimeoutMs, DEFAULT_LLM_TIMEOUT_MS } from '../../src/shared/llm-timeouts';
import type { RoleInfo, TicketInput, TicketOutcome } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';
import { WRITER_TICKET } from '../helpers/ticket-fixtures';

/** The run's HTTP timeout of one call. */
const CALL_MS = 1500;
const role: RoleInfo = {
  name: 'writer',
  description: 'Copy and documentation',
  retry: { initialIntervalMs: 200, backoffCoefficient: 1, maximumAttempts: 3 },
};
const ticket = WRITER_TICKET;

const harness = useSimAndTemporal({ port: 0 });
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('llm-timeouts');

beforeAll(async () => {
  // The worker's own HTTP timeout is far longer: the run's setting must win.
  const llm = new StructuredLlm({ baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: 60_000 });
  worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl, { llm }));
  running = worker.run();
});
harness.beforeClose(async () => {
  worker?.shutdown();
  await running;
});

const seconds = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(d?.seconds ?? 0) + (d?.nanos ?? 0) / 1e9;

describe('LLM timeouts from one setting', () => {
  it('derives the activity timeouts from the default HTTP timeout: a call and a repair per attempt', () => {
    expect(attemptTimeoutMs(DEFAULT_LLM_TIMEOUT_MS)).toBe(2 * 120_000 + 30_000);
    // Five attempts and the default backoff (2 s, 4 s, 8 s, 16 s) between them.
    expect(
      activityTimeoutMs(DEFAULT_LLM_TIMEOUT_MS, {
        maximumAttempts: 5,
        initialIntervalMs: 2000,
        backoffCoefficient: 2,
        maximumIntervalMs: 60_000,
      }),
    ).toBe(5 * 270_000 + 30_000);
  });

  it('cuts a hung call off at the run timeout, bills its prompt tokens as an estimate, and schedules matching timeouts', async () => {
    harness.sim.clearRequests();
    harness.sim.injectFault({ kind: 'hang', match: { schemaName: SCHEMA_NAMES.work } });
    const input: TicketInput = {
      runId: 'llm-timeouts',
      ticket,
      role,
      dependencies: [],
      maxRevisions: 0,
      llmTimeoutMs: CALL_MS,
    };
    const handle = await harness.conn.client.workflow.start('ticketWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-hang`,
      args: [input],
    });
    const outcome = (await handle.result()) as TicketOutcome;
    expect(outcome.status).toBe('accepted');
    const work = harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work);
    expect(work.map((r) => r.status)).toEqual([499, 200]);
    // Cut off at the run's timeout, not at the client's default (minutes); the margin is for a
    // loaded machine, where the abort itself can take a second or two.
    expect(work[0]!.durationMs).toBeLessThan(CALL_MS * 4);

    const [timedOut, answered] = outcome.calls!.filter((c) => c.kind === 'work');
    expect(timedOut).toMatchObject({ attempt: 1, error: FailureType.LlmUnavailable, estimated: true });
    expect(timedOut!.promptTokens).toBeGreaterThan(100);
    expect(timedOut!.usd).toBeGreaterThan(0);
    expect(timedOut!.completionTokens).toBe(0);
    // The estimate is in the right range of what the provider counted for the same prompt.
    expect(timedOut!.promptTokens).toBeGreaterThan(answered!.promptTokens * 0.5);
    expect(timedOut!.promptTokens).toBeLessThan(answered!.promptTokens * 2);
    expect(outcome.workUsage.promptTokens).toBe(timedOut!.promptTokens + answered!.promptTokens);

    const history = await handle.fetchHistory();
    const scheduled = history
      .events!.map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'performTicket');
    expect(seconds(scheduled[0]!.startToCloseTimeout)).toBe((2 * CALL_MS + 30_000) / 1000);
    // Three attempts of 33 s and two waits of 200 ms.
    expect(seconds(scheduled[0]!.scheduleToCloseTimeout)).toBeCloseTo((3 * 33_000 + 400) / 1000, 3);
  });
});
