/**
 * A hostile co-tenant against reading a cancelled run back (cancelled-result.ts, partial-result.ts,
 * fetch-artifacts.ts): a workflow started on the run's task queue whose history carries forged
 * ticket outcomes. `saveFiles()` must never write outside its folder and must refuse absurd claimed
 * sizes at once with a clear message, instead of planning petabytes of chunk requests in memory.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { MaestroClient } from '../../src/client/api';
import { cleanEnv, runCli } from '../helpers/cli';
import { connectTest, testAddress, uniqueQueue } from '../helpers/temporal';

let conn: Awaited<ReturnType<typeof connectTest>>;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueQueue('forged-cancelled');
const home = mkdtempSync(path.join(os.tmpdir(), 'maestro-forged-'));
let api: MaestroClient;
let n = 0;

beforeAll(async () => {
  conn = await connectTest();
  worker = await Worker.create({
    connection: conn.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/forged/workflows'),
  });
  running = worker.run();
  api = new MaestroClient(conn.client, taskQueue, { home });
}, 120_000);
afterAll(async () => {
  worker.shutdown();
  await running;
  await conn.close();
});

/** Starts a forged run with `outcomes`, waits for its children, cancels it; returns its id. */
async function forgedCancelledRun(outcomes: unknown[]): Promise<string> {
  const runId = `forged-${Date.now()}-${++n}`;
  const handle = await conn.client.workflow.start('forgedRun', { taskQueue, workflowId: runId, args: [outcomes] });
  for (let i = 0; i < 200; i++) {
    const h = await handle.fetchHistory();
    const done = (h.events ?? []).filter((e) => e.childWorkflowExecutionCompletedEventAttributes).length;
    if (done === outcomes.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await handle.cancel();
  await handle.result().catch(() => undefined);
  return runId;
}

const accepted = (ticketId: string, artifacts: unknown[]) => ({ ticketId, status: 'accepted', attempts: 1, artifacts });

describe('a forged cancelled run', () => {
  it.each([
    ['../escape.txt'],
    ['/tmp/absolute-escape.txt'],
    ['a/../../escape.txt'],
    ['nul\u0000byte.txt'],
    ['x'.repeat(5000)],
  ])(
    'path %#: saveFiles refuses and writes nothing outside the folder',
    async (bad) => {
      const store = new FsArtifactStore(path.join(home, 'artifacts'));
      const ref = await store.put({ path: 'f.txt', content: 'hostile' });
      const runId = await forgedCancelledRun([accepted('T1', [{ ...ref, path: bad }])]);
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-forged-out-')), 'inner', 'out');
      await expect(api.saveFiles(runId, out)).rejects.toThrow(/refusing|not a relative path|is not/);
      expect(readdirSync(path.dirname(path.dirname(out)))).toEqual([]);
      expect(existsSync('/tmp/absolute-escape.txt')).toBe(false);
    },
    60_000,
  );

  it.each([[1e9], [1e15], [Number.MAX_SAFE_INTEGER], [-1], [0.5]])(
    'a claimed size of %j bytes is refused at once with a clear message',
    async (bytes) => {
      const sha256 = 'ab'.repeat(32);
      const runId = await forgedCancelledRun([
        accepted('T1', [{ path: 'big.bin', sha256, bytes, uri: 'file:///nowhere' }]),
      ]);
      const started = Date.now();
      await expect(api.saveFiles(runId, path.join(home, `out-${n}`))).rejects.toThrow(/big\.bin.*bytes/);
      expect(Date.now() - started).toBeLessThan(10_000);
    },
    60_000,
  );

  it('`maestro result` of the same forged run: exit 1 or 2 with the same message, nothing written', async () => {
    const runId = await forgedCancelledRun([
      accepted('T1', [{ path: 'big.bin', sha256: 'cd'.repeat(32), bytes: 1e15, uri: 'file:///nowhere' }]),
    ]);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-forged-cli-')), 'out');
    const res = await runCli(
      ['result', runId, '--out', out],
      cleanEnv({ TEMPORAL_ADDRESS: testAddress(), MAESTRO_TASK_QUEUE: taskQueue, MAESTRO_HOME: home }),
      60_000,
    );
    expect(res.stderr).toContain('claims 1000000000000000 bytes');
    expect(res.code).not.toBe(0);
    expect(existsSync(out)).toBe(false);
  }, 90_000);

  it('10,000 files in one accepted ticket are written, all inside the folder, in bounded time', async () => {
    const store = new FsArtifactStore(path.join(home, 'artifacts'));
    const ref = await store.put({ path: 'f.txt', content: 'same' });
    const files = Array.from({ length: 10_000 }, (_, i) => ({
      path: `d${i % 10}/f${i}.txt`,
      sha256: ref.sha256,
      bytes: ref.bytes,
    }));
    const runId = await forgedCancelledRun([accepted('T1', files)]);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-forged-many-')), 'out');
    const started = Date.now();
    const saved = await api.saveFiles(runId, out);
    expect(saved.files).toHaveLength(10_000);
    expect(saved.files.every((f) => f.startsWith(`${out}${path.sep}`))).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
