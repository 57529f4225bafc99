/**
 * A hostile co-tenant against the live re-plan lines: a workflow on the run's task queue answers
 * the `status` query with re-plans of the wrong shape, or with escape sequences and a huge reason.
 * `maestro watch` (lines and `--json`) must not crash, must print no raw control byte, and must
 * stay bounded.
 */
import { Worker } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { status } from '../helpers/status-fixtures';
import { connectTest, testAddress, uniqueQueue } from '../helpers/temporal';

let conn: Awaited<ReturnType<typeof connectTest>>;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('forged-status');
let n = 0;

beforeAll(async () => {
  conn = await connectTest();
  worker = await Worker.create({
    connection: conn.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/forged/workflows'),
  });
  running = worker.run();
}, 120_000);
afterAll(async () => {
  worker.shutdown();
  await running;
  await conn.close();
});

/** A completed run's result carrying the same re-plans (what the last poll reads). */
const resultOf = (s: Omit<ReturnType<typeof status>, 'replans'> & { replans: unknown }) => ({
  runId: s.runId,
  goal: s.goal,
  status: 'completed',
  plan: { summary: 'forged', tickets: [] },
  planAttempts: s.planAttempts,
  replans: s.replans,
  report: { summary: 'forged', followUps: [] },
  tickets: [],
  cost: s.cost,
  audit: [],
});

const ESC = '\u001b]0;pwned\u0007\u001b[2J';
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe.each([
  ['replans of the wrong shape', 'garbage'],
  ['entries of the wrong shape', [null, 7, { attempt: 'x', reason: 1 }]],
  ['escape sequences and a 1 MB reason', [{ attempt: 2, reason: `${ESC}\n${'A'.repeat(1_000_000)}` }]],
])('a forged status with %s', (_name, replans) => {
  it.each([[[]], [['--json']]])(
    'maestro watch %j: exit 0, no control byte, bounded output',
    async (flags) => {
      const runId = `forged-status-${Date.now()}-${++n}`;
      const forged = { ...status({ phase: 'planning', tickets: [] }), runId, planAttempts: 2, replans };
      await conn.client.workflow.start('forgedStatusRun', {
        taskQueue,
        workflowId: runId,
        args: [forged, 4_000, resultOf(forged)],
      });
      const res = await runCli(
        ['watch', runId, ...flags],
        cleanEnv({ TEMPORAL_ADDRESS: testAddress(), MAESTRO_TASK_QUEUE: taskQueue }),
        60_000,
      );
      expect(res.stderr).not.toContain('TypeError');
      expect({ code: res.code, stderr: res.stderr.slice(0, 500) }).toEqual({ code: 0, stderr: '' });
      expect(res.stdout).not.toMatch(CONTROL);
      expect(res.stdout.length).toBeLessThan(20_000);
      // The re-plan that is well-formed is told (its escapes shown, not sent): the poll did happen.
      if (Array.isArray(replans) && typeof (replans[0] as { reason?: unknown } | null)?.reason === 'string')
        expect(res.stdout).toContain('pwned');
      if (flags.includes('--json')) for (const line of res.stdout.trim().split('\n')) JSON.parse(line);
    },
    90_000,
  );
});

it('maestro watch --json into a reader that stops after one line (SIGPIPE): no stack trace on stderr', async () => {
  const runId = `forged-status-pipe-${Date.now()}`;
  const replans = Array.from({ length: 50 }, (_, i) => ({ attempt: i + 2, reason: `r${i} ${'x'.repeat(900)}` }));
  const forged = { ...status({ phase: 'planning', tickets: [] }), runId, planAttempts: 51, replans };
  await conn.client.workflow.start('forgedStatusRun', {
    taskQueue,
    workflowId: runId,
    args: [forged, 3_000, resultOf(forged)],
  });
  const env = cleanEnv({ TEMPORAL_ADDRESS: testAddress(), MAESTRO_TASK_QUEUE: taskQueue });
  // Async: the worker runs in this process and must keep serving the run meanwhile.
  const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" watch ${runId} --json | head -c 100 >/dev/null`], {
    env,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const res = { code, stderr };
  expect(res.stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
}, 90_000);
