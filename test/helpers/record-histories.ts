/**
 * Records the replay fixtures of the current generation (the scenarios of history-scenarios.ts)
 * on the suite's server with the simulated LLM. Run by `npm run record-histories` for scenarios
 * without a fixture; older generations are never re-recorded (they are what deployed runs look
 * like). The in-flight runs are terminated after their history is saved.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startSimLlm } from '../../src/dev/sim-llm';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { approveSignal, statusQuery } from '../../src/shared/messages';
import type { ContinuedInput } from '../../src/workflows/continue-as-new';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import { SCENARIOS, type Events, type Scenario } from './history-scenarios';
import { waitForStatus } from './runs';
import { connectTest, testAddress, testDeps, testWorker, uniqueQueue } from './temporal';

/** The `temporal` CLI writes the standard JSON history format (see the replay test). */
function historyJson(workflowId: string, runId?: string): string {
  return execFileSync(
    process.env.TEMPORAL_CLI_PATH!,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      ...(runId ? ['--run-id', runId] : []),
      '--output',
      'json',
      '--address',
      testAddress(),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * The last two executions of a run that continued as new, once the last one was started with
 * carried gate waits and has run a workflow task (restored its state and waits at the gates).
 */
async function lastTwoExecutions(client: Client, workflowId: string): Promise<{ previous: string; last: string }> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    const h = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const started = h.events?.[0]?.workflowExecutionStartedEventAttributes;
    const previous = started?.continuedExecutionRunId;
    const payload = started?.input?.payloads?.[0]?.data;
    const input = payload ? (JSON.parse(Buffer.from(payload).toString('utf8')) as ContinuedInput) : {};
    const restored = h.events?.some((e) => e.workflowTaskCompletedEventAttributes);
    if (previous && restored && (input.continued?.scheduler.gateWaits.length ?? 0) > 0)
      return { previous, last: runId };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${workflowId} never continued as new with its gates carried`);
}

async function waitForChild(client: Client, id: string, ready: (h: Events) => boolean) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const h = await client.workflow
      .getHandle(id)
      .fetchHistory()
      .catch(() => undefined);
    if (h && ready(h)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`child ${id} never reached the state to record`);
}

async function recordOne(client: Client, taskQueue: string, s: Scenario, store: ArtifactStore): Promise<string> {
  const runId = `${taskQueue}-${s.file.replace(/\.json$/, '')}`;
  const prepared = s.prepare ? await s.prepare(store) : {};
  const handle: WorkflowHandle = await client.workflow.start('orchestratorWorkflow', {
    taskQueue,
    workflowId: runId,
    args: [{ roles: DEFAULT_ROLES.map(({ name, description }) => ({ name, description })), ...s.input, ...prepared }],
  });
  if (s.until === 'closed') await handle.result().catch(() => undefined);
  else await waitForStatus(client, runId, s.until, 90_000, s.file);
  const workflowId = s.child ? `${runId}/${s.child.id}` : runId;
  if (s.child) await waitForChild(client, workflowId, s.child.ready);
  return workflowId;
}

/**
 * Runs the scenarios on the suite's server and writes the fixtures and their workflow ids. Only
 * missing fixtures are recorded unless `all` is set: kept fixtures are histories of older code,
 * which is exactly what a deploy must still replay.
 */
export async function recordHistories(dir: string, all: boolean): Promise<void> {
  const idsFile = path.join(dir, 'workflow-ids.json');
  const index: Record<string, string> = existsSync(idsFile)
    ? (JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, string>)
    : {};
  const todo = SCENARIOS.filter((s) => all || !existsSync(path.join(dir, s.file)));
  if (todo.length === 0) return;
  const sim = await startSimLlm({ port: 0, latencyMs: 200 });
  const conn = await connectTest();
  try {
    const taskQueue = uniqueQueue('record');
    const deps = testDeps(sim.baseUrl);
    const worker = await testWorker(conn.nativeConnection, taskQueue, deps);
    await worker.runUntil(async () => {
      for (const s of todo) {
        const workflowId = await recordOne(conn.client, taskQueue, s, deps.store);
        if (s.previousExecution) {
          const { previous, last } = await lastTwoExecutions(conn.client, workflowId);
          const handle = conn.client.workflow.getHandle(workflowId);
          for (const g of (await handle.query(statusQuery)).pendingGates)
            await handle.signal(approveSignal, { gate: g.id, by: 'recorder' });
          await handle.result();
          writeFileSync(path.join(dir, s.file), historyJson(workflowId, last));
          writeFileSync(path.join(dir, s.previousExecution), historyJson(workflowId, previous));
          index[s.previousExecution] = workflowId;
        } else writeFileSync(path.join(dir, s.file), historyJson(workflowId));
        index[s.file] = workflowId;
        for (const c of s.alsoChildren ?? []) {
          const childId = `${workflowId}/${c.id}`;
          writeFileSync(path.join(dir, c.file), historyJson(childId));
          index[c.file] = childId;
        }
        const run = conn.client.workflow.getHandle(workflowId.split('/')[0]!);
        await run.terminate('recorded').catch(() => undefined); // already closed: fine
      }
    });
    writeFileSync(idsFile, JSON.stringify(index, null, 2) + '\n');
  } finally {
    await conn.close();
    await sim.close();
  }
}
