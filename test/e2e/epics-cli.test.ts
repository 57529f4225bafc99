/**
 * Epics from the terminal, through the real `maestro` binary and a `maestro worker` process: a
 * run started with `--epics` and manual plan approval shows the sub-runs' plan gates in `maestro
 * status` of the top run (with the command that decides them), `maestro approve <run> --epic T1`
 * decides one, and the finished run's status lists each epic with its sub-run's counts.
 */
import { runCli } from '../helpers/cli';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('epics-cli');

async function statusOf(runId: string): Promise<string> {
  const res = await runCli(['status', runId], world.env);
  expect(res.code).toBe(0);
  return res.stdout;
}

async function until(runId: string, ok: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await statusOf(runId);
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`status of ${runId} never matched; last:\n${text}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('maestro with epics', () => {
  it('sub-run gates are listed by the top run and decided with --epic', async () => {
    const runId = `epics-cli-${Date.now()}`;
    const started = await runCli(
      [
        'start',
        'Write a field guide to tide pools [sim:epics=2] [sim:tickets=3] [sim:width=3]',
        '--epics',
        '--plan-approval',
        'manual',
        '--run-id',
        runId,
      ],
      world.env,
    );
    expect(started.code).toBe(0);
    await until(runId, (t) => t.includes('Waiting for a person: plan#1'));
    expect((await runCli(['approve', runId, '--gate', 'plan#1'], world.env)).code).toBe(0);

    const waiting = await until(runId, (t) => /in epic T1[\s\S]*in epic T2/.test(t));
    expect(waiting).toContain(`decide: maestro approve ${runId} --epic T1 --gate 'plan#1'`);
    expect(waiting).toMatch(/T1 +boss +running .*Epic 1 of 2 {2}\[3 tickets: 3 pending\]/);

    // The sub-run on its own: its tickets, and its gate's command through the top run.
    const sub = await runCli(['status', runId, '--epic', 'T2'], world.env);
    expect(sub.stdout).toContain(`Run ${runId}/T2: planning`);
    expect(sub.stdout).toContain(`decide: maestro approve ${runId} --epic T2 --gate 'plan#1'`);

    const bad = await runCli(['approve', runId, '--epic', 'epic-1'], world.env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--epic takes a ticket id such as T3');

    for (const epic of ['T1', 'T2']) {
      const res = await runCli(['approve', runId, '--epic', epic, '--gate', 'plan#1', '--by', 'epic-lead'], world.env);
      expect(res.stderr).toBe('');
      expect(res.stdout).toContain(`${epic} plan#1: approved (approve) by epic-lead`);
    }
    const done = await until(runId, (t) => t.includes(`Run ${runId}: completed`), 90_000);
    expect(done).toMatch(/T1 +boss +accepted .*\[3 tickets: 3 accepted\]/);
    expect(done).toMatch(/T2 +boss +accepted .*\[3 tickets: 3 accepted\]/);
    expect(done).toContain('Epics: 6 tickets in 2 sub-runs: 6 accepted');
  }, 180_000);
});
