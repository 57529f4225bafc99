/**
 * `maestro watch` while a coding-agent CLI works: on the suite's Temporal server with the real
 * activities and sandbox, the stand-in CLI reports three turns (the last tool's name hostile) and
 * keeps working; the watcher's real poll (describe of the ticket's child, heartbeat details decoded
 * with the client's converter) and its screen show the CLI's progress as one clean line, and the
 * heartbeat itself is small plain JSON that the Web UI shows as it is, progress first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MaestroClient } from '../../src/client/api';
import { watchSnapshots } from '../../src/client/watch/poll';
import { renderWatch } from '../../src/client/watch/render';
import { ticketWorkflowId } from '../../src/shared/constants';
import { DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from '../../src/shared/roles';
import { stubGateway, type StubGatewayLog } from '../helpers/stub-gateway';
import { CLI, cleanEnv } from '../helpers/cli';
import { testAddress, testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const FAKE_CLI = path.resolve(__dirname, '../fixtures/executor/fake-cli.mjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-watch-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const roles: RoleDefinition[] = DEFAULT_ROLES.map((r) =>
  r.name === 'coder'
    ? {
        ...r,
        executor: { agent: 'custom' as const, wallMs: 120_000, maxRetries: 0 },
        executorCommand: { command: 'node', args: [FAKE_CLI, 'progress'] },
      }
    : r,
);

test("the watcher shows a working CLI's turns, tool calls, last tool and tokens from its heartbeats", async () => {
  const log: StubGatewayLog = { requests: [], started: [], refused: 0 };
  const taskQueue = uniqueQueue('executor-watch');
  const runId = `${taskQueue}-run`;
  const deps = testDeps(harness.sim.baseUrl, {
    roles,
    executor: {
      startGateway: stubGateway(log),
      llm: { baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: 30_000 },
      workspaceParent: path.join(dir, 'ws'),
    },
  });
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: runId,
      args: [{ goal: 'Build a landing page for a tea room called Leaf Lounge', roles: roles.map(roleInfoOf) }],
    });
    try {
      const api = new MaestroClient(harness.conn.client, taskQueue);
      const seen: string[] = [];
      let coderTicket: string | undefined;
      const deadline = Date.now() + 120_000;
      for await (const snap of watchSnapshots(api, runId, { intervalMs: 250 })) {
        const lines = renderWatch(snap, { now: new Date(), width: 200 }).filter((l) => / \[coder\] /.test(l));
        for (const l of lines) if (!seen.includes(l)) seen.push(l);
        const done = lines.find((l) => l.includes('turn 3'));
        if (done) {
          coderTicket = done.split(' ')[0];
          break;
        }
        if (Date.now() > deadline) break;
      }
      expect(coderTicket).toMatch(/^T\d+$/);
      const last = seen.find((l) => l.includes('turn 3'))!;
      expect(last).toBe(
        `${coderTicket} [coder] custom: turn 3, 3 tool calls, last: apply_patch[2J Waiting for a person: fi…, 12.6k tokens`,
      );
      for (const l of seen) expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);

      // What the Web UI shows: the pending activity's summary names role, ticket, attempt and
      // agent, and its heartbeat is plain JSON, small, with the progress first.
      const child = harness.conn.client.workflow.getHandle(ticketWorkflowId(runId, coderTicket!));
      const desc = await child.describe();
      const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'runExecutor');
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      expect(Buffer.from(payload!.metadata!.encoding!).toString()).toBe('json/plain');
      const json = Buffer.from(payload!.data!).toString();
      expect(json.length).toBeLessThan(2000);
      expect(json).toMatch(/^\{"executor":\{"agent":"custom","turns":3,"toolCalls":3,/);
      // `maestro watch` itself (piped: one line per change) prints the same line.
      const watch = spawn(process.execPath, [CLI, 'watch', runId, '--interval', '200'], {
        env: cleanEnv({
          TEMPORAL_ADDRESS: testAddress(),
          MAESTRO_TASK_QUEUE: taskQueue,
          OPENAI_BASE_URL: harness.sim.baseUrl,
          OPENAI_API_KEY: 'sim',
          MAESTRO_HOME: path.join(dir, 'home'),
        }),
      });
      let watched = '';
      watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
      watch.stderr.on('data', (d: Buffer) => (watched += d.toString()));
      const until = Date.now() + 60_000;
      while (!watched.includes(`  ${last}\n`) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      watch.kill('SIGKILL');
      expect(watched).toContain(`  ${last}\n`);
      expect(watched).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202a-\u202e]/);

      const history = await child.fetchHistory();
      const scheduled = history.events?.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runExecutor',
      );
      const summary = scheduled?.userMetadata?.summary?.data;
      expect(Buffer.from(summary!).toString()).toContain(`coder ${coderTicket} attempt 1 (custom)`);
    } finally {
      await handle.cancel();
      await handle.result().catch(() => undefined);
    }
  });
}, 180_000);
