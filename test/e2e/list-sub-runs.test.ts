/**
 * `maestro list` with epics, as a person runs it against the suite's server: an epic's sub-run is
 * a child orchestrator, listed only with `--all` (marked with its parent); by default the top run
 * is listed once, with the number of its sub-runs. The JSON output says the same.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ticketWorkflowId } from '../../src/shared/constants';
import { cleanEnv, runCli } from '../helpers/cli';
import { testAddress, useSimAndTemporal, useSimWorker } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const runner = useSimWorker(harness, 'list-sub-runs');

interface Listed {
  runId: string;
  subRunCount?: number;
  parentRunId?: string;
}

describe('maestro list and sub-runs', () => {
  it('hides sub-runs by default and counts them; --all lists them marked with their parent', async () => {
    const runId = await runner.start('Notes on lighthouses [sim:epics=2] [sim:tickets=2]', { epics: true });
    expect((await runner.api.result(runId)).status).toBe('completed');
    const subIds = [ticketWorkflowId(runId, 'T1'), ticketWorkflowId(runId, 'T2')];
    const env = cleanEnv({
      TEMPORAL_ADDRESS: testAddress(),
      MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-list-sub-runs-')),
    });
    const args = ['list', '--since', '1h', '--limit', '1000'];

    const top = await runCli([...args, '--json'], env);
    expect({ code: top.code, stderr: top.stderr }).toEqual({ code: 0, stderr: '' });
    const topRuns = JSON.parse(top.stdout) as Listed[];
    expect(topRuns.filter((r) => r.runId === runId)).toEqual([expect.objectContaining({ runId, subRunCount: 2 })]);
    expect(topRuns.map((r) => r.runId)).not.toEqual(expect.arrayContaining([subIds[0]]));
    expect(topRuns.every((r) => r.parentRunId === undefined)).toBe(true);

    const all = JSON.parse((await runCli([...args, '--all', '--json'], env)).stdout) as Listed[];
    for (const id of subIds) {
      expect(all.filter((r) => r.runId === id)).toEqual([expect.objectContaining({ runId: id, parentRunId: runId })]);
    }
    expect(all.find((r) => r.runId === runId)).toEqual(expect.objectContaining({ subRunCount: 2 }));

    const table = await runCli(args, env);
    const row = table.stdout.split('\n').find((l) => l.startsWith(`${runId} `));
    expect(row).toMatch(/ 2 +Notes on lighthouses/);
    expect(table.stdout).not.toContain(subIds[0]);
    expect(table.stderr).toMatch(/sub-run\(s\) of epics not listed; `maestro list --all` includes them/);
    const allTable = await runCli([...args, '--all'], env);
    expect(allTable.stdout.split('\n').find((l) => l.startsWith(`${subIds[0]} `))).toMatch(
      new RegExp(`of ${runId} +\\(epic T1\\)$`),
    );
  }, 180_000);
});
