/**
 * Replays recorded histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here. The fixtures cover a finished run and every state a run
 * can be in across a deploy (each gate kind pending, a ticket mid-revision, a budget gate, a
 * planning failure; see test/helpers/record-histories.ts). `npm run record-histories` records
 * missing fixtures; `MAESTRO_RECORD_HISTORIES=all` re-records every one, only after an intended
 * change of a workflow's shape that old runs cannot meet (say so in the commit: deployed runs then
 * need `patched()`; see README "Deploying").
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { recordHistories, SCENARIOS } from '../helpers/record-histories';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');

describe('replay of recorded histories', () => {
  beforeAll(async () => {
    const mode = process.env.MAESTRO_RECORD_HISTORIES;
    if (mode === '1' || mode === 'all') await recordHistories(DIR, mode === 'all');
  });

  const wanted = SCENARIOS.flatMap((s) => [s.file, ...(s.alsoChild ? [s.alsoChild.file] : [])]);
  const onDisk = () => readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
  // Every scenario's file (recorded in beforeAll when missing and asked for) plus any older ones.
  const files = [...new Set([...wanted, ...onDisk()])];
  // Child ids derive from the run id, so a replay must use the recorded workflow id.
  const ids = (): Record<string, string> =>
    JSON.parse(readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

  it('has a recorded history for every in-flight path', () => {
    expect(onDisk()).toEqual(expect.arrayContaining(wanted));
    expect(Object.keys(ids())).toEqual(expect.arrayContaining(wanted));
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(5);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE! } },
      history,
      ids()[file],
    );
  });
});
