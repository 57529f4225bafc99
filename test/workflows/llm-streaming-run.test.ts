/**
 * Streaming in a real ticket workflow (suite's Temporal dev server, simulated LLM over HTTP): a
 * stream that stalls is cut off by the idle timeout within seconds and the activity is retried; a
 * slow steady stream longer than the idle timeout completes in one call, and while it streams the
 * pending activity's heartbeat details carry the live progress (`llm`) as plain JSON.
 */
import type { Worker } from '@temporalio/worker';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { parseLlmProgress } from '../../src/client/watch/llm-progress';
import { pendingActivitiesOf } from '../../src/client/watch/pending-activities';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { FailureType } from '../../src/shared/errors';
import type { RoleInfo, TicketInput, TicketOutcome } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';
import { WRITER_TICKET } from '../helpers/ticket-fixtures';

const IDLE_MS = 1_000;
const role: RoleInfo = {
  name: 'writer',
  description: 'Copy and documentation',
  retry: { initialIntervalMs: 200, backoffCoefficient: 1, maximumAttempts: 3 },
};

const harness = useSimAndTemporal({ port: 0 });
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('llm-stream');

beforeAll(async () => {
  const llm = new StructuredLlm({
    baseUrl: harness.sim.baseUrl,
    apiKey: 'test-key',
    timeoutMs: 60_000,
    idleTimeoutMs: IDLE_MS,
  });
  worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl, { llm }));
  running = worker.run();
});
harness.beforeClose(async () => {
  worker?.shutdown();
  await running;
});

function start(name: string) {
  const input: TicketInput = {
    runId: `llm-stream-${name}`,
    ticket: WRITER_TICKET,
    role,
    dependencies: [],
    maxRevisions: 0,
  };
  return harness.conn.client.workflow.start('ticketWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-${name}`,
    args: [input],
  });
}

const work = () => harness.sim.requests().filter((r) => r.schemaName === SCHEMA_NAMES.work);

describe('streamed calls in a ticket workflow', () => {
  beforeEach(() => {
    harness.sim.clearFaults();
    harness.sim.clearRequests();
  });

  it('a stream that stalls is cut off by the idle timeout within seconds, billed, and retried', async () => {
    harness.sim.injectFault({ kind: 'stall', match: { schemaName: SCHEMA_NAMES.work } });
    const outcome = (await (await start('stall')).result()) as TicketOutcome;
    expect(outcome.status).toBe('accepted');
    expect(work().map((r) => [r.status, r.fault ?? 'ok'])).toEqual([
      [499, 'stall'],
      [200, 'ok'],
    ]);
    expect(work()[0]!.durationMs).toBeLessThan(IDLE_MS + 3_000);
    const calls = (outcome.calls ?? []).filter((c) => c.kind === 'work');
    expect(calls.map((c) => [c.attempt, c.error ?? 'ok'])).toEqual([
      [1, FailureType.LlmUnavailable],
      [2, 'ok'],
    ]);
    expect(calls[0]).toMatchObject({ estimated: true });
    expect(calls[0]!.promptTokens).toBeGreaterThan(0);
  });

  it('a slow steady stream longer than the idle timeout completes, heartbeating its progress', async () => {
    harness.sim.injectFault({ kind: 'slow-stream', latencyMs: 4_000, match: { schemaName: SCHEMA_NAMES.work } });
    const handle = await start('slow');
    const seen: unknown[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const desc = await handle.describe();
      if (desc.status.name !== 'RUNNING') break;
      const raw = (desc.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'performTicket');
      const payloads = raw?.heartbeatDetails?.payloads;
      // Plain JSON on the wire, as the Web UI shows it.
      if (payloads?.length) expect(Buffer.from(payloads[0]!.metadata!.encoding!).toString()).toBe('json/plain');
      const pending = (await pendingActivitiesOf(harness.conn.client, desc.raw)).find(
        (a) => a.type === 'performTicket',
      );
      if (pending?.details !== undefined) seen.push(pending.details);
      await new Promise((r) => setTimeout(r, 300));
    }
    const outcome = (await handle.result()) as TicketOutcome;
    expect(outcome.status).toBe('accepted');
    expect(work().map((r) => r.status)).toEqual([200]);
    const progress = seen.map(parseLlmProgress).filter((p) => p !== undefined);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => p.tokens > 0 && p.tokensPerSecond > 0)).toBe(true);
  });
});
