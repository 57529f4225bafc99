/**
 * Replays recorded histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here. After an intended change of a workflow's shape,
 * re-record with `MAESTRO_RECORD_HISTORIES=1 npx jest test/workflows/replay.test.ts` and say so
 * in the commit (old runs then need a patch() or a new workflow version).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from '@temporalio/worker';
import { startSimLlm } from '../../src/dev/sim-llm';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { connectTest, testDeps, testWorker, uniqueQueue } from '../helpers/temporal';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');

async function record(): Promise<void> {
  const sim = await startSimLlm({ port: 0 });
  const conn = await connectTest();
  try {
    const taskQueue = uniqueQueue('record');
    const worker = await testWorker(conn.nativeConnection, taskQueue, testDeps(sim.baseUrl));
    const runId = `${taskQueue}-run`;
    await worker.runUntil(async () => {
      const handle = await conn.client.workflow.start('orchestratorWorkflow', {
        taskQueue,
        workflowId: runId,
        args: [
          {
            goal: 'Build a landing page for a tea room called Steep [sim:invalid-plan=1]',
            roles: DEFAULT_ROLES.map(({ name, description }) => ({ name, description })),
            // Exercise gates (a plan gate settled by its timeout policy), budget permits and
            // search-attribute upserts, so their commands are part of the recorded shape.
            planApproval: 'manual',
            gatePolicies: { plan: { timeoutMs: 300, onTimeout: 'approve' } },
            budget: { usd: 5 },
            searchAttributes: true,
          },
        ],
      });
      await handle.result();
    });
    // The temporal CLI writes the standard JSON history format (the SDK's own converter does not
    // work across the two protobufjs versions the SDK ships).
    const index: Record<string, string> = {};
    const save = (workflowId: string, file: string) => {
      const json = execFileSync(
        process.env.TEMPORAL_CLI_PATH!,
        [
          'workflow',
          'show',
          '--workflow-id',
          workflowId,
          '--output',
          'json',
          '--address',
          process.env.MAESTRO_TEST_TEMPORAL_ADDRESS!,
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(path.join(DIR, file), json);
      index[file] = workflowId;
    };
    save(runId, 'orchestrator-website.json');
    save(`${runId}/T3`, 'ticket-with-revision.json');
    writeFileSync(path.join(DIR, 'workflow-ids.json'), JSON.stringify(index, null, 2));
  } finally {
    await conn.close();
    await sim.close();
  }
}

describe('replay of recorded histories', () => {
  beforeAll(async () => {
    if (process.env.MAESTRO_RECORD_HISTORIES === '1') await record();
  });

  const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
  // Child ids derive from the run id, so a replay must use the recorded workflow id.
  const ids = (): Record<string, string> =>
    JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

  it('has recorded histories to replay', () => {
    expect(files).toEqual(expect.arrayContaining(['orchestrator-website.json', 'ticket-with-revision.json']));
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(10);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE! } },
      history,
      ids()[file],
    );
  });
});
