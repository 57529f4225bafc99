/**
 * `maestro result` on another disk than the worker's, for a run large enough that its manifest
 * and call records went to the artifact store: the stored record chunks are fetched from the
 * worker before they are read, then the files, and the output is assembled. Real filesystem
 * stores on both sides; the fetch copies between them as the export workflow would.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { createRecordActivities } from '../../src/activities/records';
import { assembleRunOutput } from '../../src/client/output';
import { loadConfig } from '../../src/config';
import { chunksOf, partItems, RECORD_PARTS, withoutStoredParts, type RunRecords } from '../../src/shared/run-records';
import type { ArtifactRef } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import { artifactRoot } from '../../src/workers/activity-deps';
import { RunState } from '../../src/workflows/run-state';

const tmp = (name: string) => mkdtempSync(path.join(os.tmpdir(), `maestro-${name}-`));

it('fetches the stored manifest and records from the worker first, then the files', async () => {
  const workerStore = new FsArtifactStore(artifactRoot(tmp('worker-home')));
  const clientHome = tmp('client-home');
  const clientStore = new FsArtifactStore(artifactRoot(clientHome));

  const page = await workerStore.put({ path: 'index.html', content: '<h1>Crumb</h1>' });
  const style = await workerStore.put({ path: 'styles.css', content: 'h1 { color: brown }' });
  const state = new RunState('maestro-offloaded', { goal: 'a bakery page', roles: [] }, () => '2026-01-01T00:00:00Z');
  state.adoptPlan({
    summary: 'one page',
    tickets: [{ id: 'T1', role: 'coder', title: 'Build it', spec: 'build', acceptanceCriteria: ['ok'], dependsOn: [] }],
  });
  state.accept({
    ticketId: 'T1',
    status: 'accepted',
    attempts: 1,
    summary: 'built',
    artifacts: [page, style],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
    calls: [],
  });
  const full = state.result({ headline: 'done', summary: 'done', followUps: [] });

  // What the run does at its end when the records are too large (workflows/records.ts).
  const { storeRunRecords } = createRecordActivities({ store: workerStore });
  const records: RunRecords = {};
  for (const part of RECORD_PARTS) {
    records[part] = await Promise.all(
      chunksOf(partItems(full, part)).map((items, chunk) => storeRunRecords({ runId: full.runId, part, chunk, items })),
    );
  }
  const returned = withoutStoredParts(full, records);
  expect(returned.manifest).toEqual([]);

  const asked: string[][] = [];
  const fetchMissing = async (refs: ArtifactRef[]) => {
    asked.push(refs.map((r) => r.path));
    for (const ref of refs) await clientStore.put({ path: ref.path, content: await workerStore.read(ref) });
  };
  const out = path.join(tmp('out'), 'site');
  const { files } = await assembleRunOutput({ ...loadConfig({}), home: clientHome }, returned, { out, fetchMissing });

  expect(asked[0]).toContain('run-records/maestro-offloaded/manifest-0.json');
  expect(asked[1]).toEqual(['index.html', 'styles.css']);
  expect(files.map((f) => path.relative(out, f)).sort()).toEqual(['index.html', 'styles.css']);
  expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toBe('<h1>Crumb</h1>');
});
