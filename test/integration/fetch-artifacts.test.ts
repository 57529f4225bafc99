/**
 * File retrieval without a shared disk, in-process: a worker keeps files in its own artifact
 * store, a client with another (empty) store fetches them through Temporal in bounded chunks
 * (several export workflows, blobs split across them), hash-checked, and assembles the output.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { MaestroClient } from '../../src/client/api';
import { fetchMissingArtifacts } from '../../src/client/fetch-artifacts';
import { workflowPollers } from '../../src/client/pollers';
import {
  ARTIFACT_BATCH_BYTES,
  ARTIFACT_CHUNK_BYTES,
  planChunkBatches,
  type ChunkRequest,
} from '../../src/shared/artifact-chunks';
import type { ArtifactRef } from '../../src/shared/types';
import { artifactRoot } from '../../src/workers/activity-deps';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const env = useSimAndTemporal();
const homes: string[] = [];
const newHome = () => {
  const h = mkdtempSync(path.join(os.tmpdir(), 'maestro-fetch-'));
  homes.push(h);
  return h;
};
afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

describe('planChunkBatches', () => {
  const total = (b: ChunkRequest[]) => b.reduce((n, c) => n + c.length, 0);

  test('splits big blobs into chunks, packs small ones, and stays within the bounds', () => {
    const blobs = [
      { sha256: 'a'.repeat(64), bytes: 700_000, path: 'big.bin' },
      { sha256: 'b'.repeat(64), bytes: 10, path: 'small.txt' },
      { sha256: 'c'.repeat(64), bytes: 0, path: 'empty.txt' },
    ];
    const batches = planChunkBatches(blobs);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) {
      expect(total(b)).toBeLessThanOrEqual(ARTIFACT_BATCH_BYTES);
      for (const c of b) expect(c.length).toBeLessThanOrEqual(ARTIFACT_CHUNK_BYTES);
    }
    const big = batches.flat().filter((c) => c.path === 'big.bin');
    expect(big.map((c) => c.offset)).toEqual([0, ARTIFACT_CHUNK_BYTES, 2 * ARTIFACT_CHUNK_BYTES]);
    expect(total(big)).toBe(700_000);
    expect(batches.flat().some((c) => c.path === 'empty.txt')).toBe(false);
  });

  test('many small files share requests, at most 1000 ranges each', () => {
    const blobs = Array.from({ length: 2500 }, (_, i) => ({
      sha256: i.toString(16).padStart(64, '0'),
      bytes: 5,
      path: `f${i}`,
    }));
    expect(planChunkBatches(blobs).map((b) => b.length)).toEqual([1000, 1000, 500]);
  });
});

describe('fetchMissingArtifacts through a real worker', () => {
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueQueue('fetch');
  const workerHome = newHome();
  const refs: ArtifactRef[] = [];
  const contents = new Map<string, Buffer>();

  beforeAll(async () => {
    const store = new FsArtifactStore(artifactRoot(workerHome));
    const files = [
      { path: 'site/big.bin', content: randomBytes(700_000) },
      { path: 'index.html', content: Buffer.from('<!doctype html><title>Bean There</title>') },
      { path: 'empty.txt', content: Buffer.alloc(0) },
      ...Array.from({ length: 5 }, (_, i) => ({ path: `notes/${i}.md`, content: Buffer.from(`note ${i}\n`) })),
    ];
    for (const f of files) {
      refs.push(await store.put(f));
      contents.set(f.path, f.content);
    }
    // These tests are about the transfer (chunks, batches, hashes), not about which run recorded
    // what: the worker is told these runs recorded these files. The describe below uses real runs.
    const runArtifacts = (runId: string) =>
      Promise.resolve(new Set(runId.startsWith('fetch-') ? [...refs.map((r) => r.sha256), 'f'.repeat(64)] : []));
    worker = await testWorker(env.conn.nativeConnection, taskQueue, testDeps(env.sim.baseUrl, { store, runArtifacts }));
    running = worker.run();
    // The client refuses to wait for a queue nobody polls, so wait until Temporal lists the worker.
    for (let i = 0; i < 200 && (await workflowPollers(env.conn.client, taskQueue)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    env.beforeClose(async () => {
      worker.shutdown();
      await running;
    });
  });

  test('a client with an empty MAESTRO_HOME gets every file, byte for byte, in several bounded requests', async () => {
    const clientHome = newHome();
    const lines: string[] = [];
    const got = await fetchMissingArtifacts({
      client: env.conn.client,
      home: clientHome,
      runId: `fetch-test-${randomBytes(3).toString('hex')}`,
      taskQueue,
      artifacts: refs,
      log: (l) => lines.push(l),
    });
    expect(got.blobs).toBe(refs.length);
    expect(got.bytes).toBe([...contents.values()].reduce((n, b) => n + b.length, 0));
    expect(got.requests).toBeGreaterThanOrEqual(2);
    expect(lines.join('\n')).toMatch(/Fetching 8 file\(s\).*through Temporal/);
    const local = new FsArtifactStore(artifactRoot(clientHome));
    for (const ref of refs) {
      const bytes = await local.read(ref);
      expect(bytes.equals(contents.get(ref.path)!)).toBe(true);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
    }
    // Second time: everything is local, nothing is fetched.
    const again = await fetchMissingArtifacts({
      client: env.conn.client,
      home: clientHome,
      runId: 'fetch-test-again',
      taskQueue,
      artifacts: refs,
    });
    expect(again).toEqual({ blobs: 0, bytes: 0, requests: 0 });
  });

  test('a file the worker does not have either: a clear error, nothing stored', async () => {
    const clientHome = newHome();
    const ghost: ArtifactRef = { path: 'ghost.txt', sha256: 'f'.repeat(64), bytes: 12, uri: 'file:///nowhere' };
    await expect(
      fetchMissingArtifacts({
        client: env.conn.client,
        home: clientHome,
        runId: 'fetch-ghost',
        taskQueue,
        artifacts: [ghost],
      }),
    ).rejects.toThrow(
      /Could not fetch the files of run fetch-ghost from the worker on task queue .*ghost\.txt.*not in the artifact store/,
    );
    expect(existsSync(path.join(artifactRoot(clientHome), 'blobs'))).toBe(false);
  });

  test('no worker polls the queue: a clear error at once instead of waiting', async () => {
    const t0 = Date.now();
    await expect(
      fetchMissingArtifacts({
        client: env.conn.client,
        home: newHome(),
        runId: 'fetch-nobody',
        taskQueue: uniqueQueue('nobody'),
        artifacts: refs.slice(0, 1),
      }),
    ).rejects.toThrow(
      /no worker polls task queue "test-nobody-[0-9a-f]+" to send them\. Start the worker that ran the run/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('a fetch names its run, and a worker serves only the files that run recorded', () => {
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueQueue('fetch-own');
  const workerHome = newHome();
  let foreign: ArtifactRef;

  beforeAll(async () => {
    const store = new FsArtifactStore(artifactRoot(workerHome));
    // A file of the worker's store that no run recorded (another project's secret, say).
    foreign = await store.put({ path: 'other-project/.env', content: 'DATABASE_PASSWORD=hunter2\n' });
    worker = await testWorker(env.conn.nativeConnection, taskQueue, testDeps(env.sim.baseUrl, { store }));
    running = worker.run();
    for (let i = 0; i < 200 && (await workflowPollers(env.conn.client, taskQueue)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    env.beforeClose(async () => {
      worker.shutdown();
      await running;
    });
  });

  test("a run's own files come; another hash named with that run, an unknown run or a forged run are refused", async () => {
    const api = new MaestroClient(env.conn.client, taskQueue);
    const runId = await api.start('Build a landing page for a bakery called Open Loaf', {
      runId: `fetch-own-${randomBytes(3).toString('hex')}`,
    });
    const result = await api.result(runId);
    expect(result.manifest.length).toBeGreaterThan(0);
    const got = await fetchMissingArtifacts({
      client: env.conn.client,
      home: newHome(),
      runId,
      taskQueue,
      artifacts: result.manifest,
    });
    expect(got.blobs).toBe(new Set(result.manifest.map((m) => m.sha256)).size);

    const clientHome = newHome();
    await expect(
      fetchMissingArtifacts({ client: env.conn.client, home: clientHome, runId, taskQueue, artifacts: [foreign] }),
    ).rejects.toThrow(/other-project\/\.env is not among the files run fetch-own-\w+ recorded/);
    expect(existsSync(path.join(artifactRoot(clientHome), 'blobs'))).toBe(false);
    await expect(
      fetchMissingArtifacts({
        client: env.conn.client,
        home: newHome(),
        runId: 'no-such-run',
        taskQueue,
        artifacts: [foreign],
      }),
    ).rejects.toThrow(/there is no run no-such-run/);

    // A client starting a "run" with carried-over state (which could list any hash) is not believed.
    const forged = `fetch-forged-${randomBytes(3).toString('hex')}`;
    await env.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue: `${taskQueue}-nobody`,
      workflowId: forged,
      args: [{ goal: 'x', continued: { generation: 1, state: { accepted: [foreign] } } }],
    });
    try {
      await expect(
        fetchMissingArtifacts({
          client: env.conn.client,
          home: newHome(),
          runId: forged,
          taskQueue,
          artifacts: [foreign],
        }),
      ).rejects.toThrow(/started with carried-over state by a client/);
    } finally {
      await env.conn.client.workflow.getHandle(forged).terminate();
    }
  });
});
