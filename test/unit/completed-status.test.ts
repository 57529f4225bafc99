/**
 * `maestro status` of a completed large run: its audit log was stored aside (run-records.ts)
 * and the result carries references, so the status must read the log back (fetching the chunks
 * from the worker's store when the client's lacks them), or say why it cannot, instead of
 * showing no decisions at all.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { createRecordActivities } from '../../src/activities/records';
import { completedRunStatus } from '../../src/client/completed-status';
import { statusText } from '../../src/client/format';
import { statusFromResult } from '../../src/client/run-views';
import { chunksOf, partItems, RECORD_PARTS, withoutStoredParts, type RunRecords } from '../../src/shared/run-records';
import type { ArtifactRef, RunResult } from '../../src/shared/types';
import { artifactRoot } from '../../src/workers/activity-deps';
import { RunState } from '../../src/workflows/run-state';

const tmp = (name: string) => mkdtempSync(path.join(os.tmpdir(), `maestro-${name}-`));

/** A finished run whose records (audit included) went to `store`, as a large run's do. */
async function offloadedRun(store: FsArtifactStore): Promise<RunResult> {
  const state = new RunState('maestro-big', { goal: 'a big site', roles: [] }, () => '2026-01-01T00:00:00Z');
  state.adoptPlan({ summary: 'one page', tickets: [] });
  state.book.log({ by: 'ana', action: 'approve', gate: 'plan#1', comment: 'looks right' });
  state.book.log({ by: 'ben', action: 'raise-budget', comment: '+$5' });
  const full = state.result({ headline: 'done', summary: 'done', followUps: [] });
  const { storeRunRecords } = createRecordActivities({ store });
  const records: RunRecords = {};
  for (const part of RECORD_PARTS) {
    records[part] = await Promise.all(
      chunksOf(partItems(full, part)).map((items, chunk) => storeRunRecords({ runId: full.runId, part, chunk, items })),
    );
  }
  return withoutStoredParts(full, records);
}

it('reads the stored audit log back, fetching its chunks from the worker first', async () => {
  const workerStore = new FsArtifactStore(artifactRoot(tmp('worker-home')));
  const clientHome = tmp('client-home');
  const clientStore = new FsArtifactStore(artifactRoot(clientHome));
  const result = await offloadedRun(workerStore);
  // What the status showed before: the result alone has an empty log.
  expect(statusFromResult(result).audit).toEqual([]);

  const asked: string[] = [];
  const fetchMissing = async (refs: ArtifactRef[]) => {
    for (const ref of refs) {
      asked.push(ref.path);
      await clientStore.put({ path: ref.path, content: await workerStore.read(ref) });
    }
  };
  const status = await completedRunStatus({ result, home: clientHome, fetchMissing });

  expect(asked).toEqual(['run-records/maestro-big/audit-0.json']);
  expect(status.audit.map((a) => `${a.by}:${a.action}`)).toEqual(['ana:approve', 'ben:raise-budget']);
  expect(status.auditUnavailable).toBeUndefined();
  const text = statusText(status);
  expect(text).toContain('ana: approve plan#1 — looks right');
  expect(text).toContain('ben: raise-budget — +$5');
});

it('says why the audit log is not shown when no worker can send it', async () => {
  const result = await offloadedRun(new FsArtifactStore(artifactRoot(tmp('worker-home'))));
  const fetchMissing = () => Promise.reject(new Error('no worker polls task queue "maestro"'));
  const status = await completedRunStatus({ result, home: tmp('client-home'), fetchMissing });

  expect(status.audit).toEqual([]);
  expect(statusText(status)).toContain(
    'Audit: not shown: this run\'s audit log (1 stored chunk(s)) could not be read here: no worker polls task queue "maestro"',
  );
});

it('leaves a run whose audit is inline as it is, without asking any worker', async () => {
  const state = new RunState('maestro-small', { goal: 'a page', roles: [] }, () => '2026-01-01T00:00:00Z');
  state.adoptPlan({ summary: 'one page', tickets: [] });
  state.book.log({ by: 'ana', action: 'approve', gate: 'plan#1' });
  const result = state.result({ headline: 'done', summary: 'done', followUps: [] });
  const fetchMissing = jest.fn(() => Promise.resolve());
  const status = await completedRunStatus({ result, home: tmp('client-home'), fetchMissing });
  expect(status.audit).toHaveLength(1);
  expect(fetchMissing).not.toHaveBeenCalled();
});
