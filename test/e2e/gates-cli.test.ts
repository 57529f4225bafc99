/**
 * Deciding on a run from the command line: `maestro start --plan-approval manual`, the status
 * contract with a pending gate, CLI errors for decisions that do not fit, and an approval sent
 * with the official Temporal CLI (`temporal workflow signal`), all against a worker process.
 */
import { execFileSync } from 'node:child_process';
import { runCli } from '../helpers/cli';
import { testAddress } from '../helpers/temporal';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('cli-gates');

type StatusJson = {
  phase: string;
  pendingGates: { kind: string; id: string }[];
  audit: { by: string; action: string }[];
};

async function statusJson(runId: string): Promise<StatusJson> {
  const res = await runCli(['status', runId, '--json'], world.env);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as StatusJson;
}

async function until(runId: string, pred: (s: StatusJson) => boolean): Promise<StatusJson> {
  for (let i = 0; i < 60; i++) {
    const s = await statusJson(runId);
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`run ${runId} never reached the expected state`);
}

it('plan gate from the CLI: wrong decisions are refused, the Temporal CLI approves', async () => {
  const started = await runCli(
    ['start', 'Build a landing page for a coffee shop called Bean There', '--plan-approval', 'manual'],
    world.env,
  );
  expect(started.code).toBe(0);
  const runId = started.stdout.trim();
  expect(runId).toMatch(/^maestro-\d{8}-\d{6}-[0-9a-f]{4}$/);

  const waiting = await until(runId, (s) => s.pendingGates.length === 1);
  expect(waiting.pendingGates[0]!.kind).toBe('plan');

  const wrongGate = await runCli(['approve', runId, '--gate', 'final'], world.env);
  expect(wrongGate.code).toBe(2);
  expect(wrongGate.stderr).toContain(`Run ${runId} refused the decision: no pending final gate; pending: plan#1`);

  const staleId = await runCli(['approve', runId, '--gate', 'plan#5'], world.env);
  expect(staleId.code).toBe(2);
  expect(staleId.stderr).toContain(
    `Run ${runId} refused the decision: this run has no gate plan#5; pending now: plan#1`,
  );

  const badGate = await runCli(['approve', runId, '--gate', 'lunch'], world.env);
  expect(badGate.code).not.toBe(0);
  expect(badGate.stderr).toContain('--gate takes one of plan, ticket, final, budget, or a gate id such as plan#2');
  expect(badGate.stderr).toContain('got "lunch"');

  const negative = await runCli(['raise-budget', runId, '--usd', '-3'], world.env);
  expect(negative.code).not.toBe(0);
  expect(negative.stderr).toContain('--usd takes a positive number');

  execFileSync(
    process.env.TEMPORAL_CLI_PATH!,
    [
      'workflow',
      'signal',
      '--address',
      testAddress(),
      '--workflow-id',
      runId,
      '--name',
      'approve',
      '--input',
      '{"by":"ops-oncall"}',
    ],
    { encoding: 'utf8' },
  );
  const done = await until(runId, (s) => s.phase === 'completed');
  expect(done.audit).toEqual(
    expect.arrayContaining([expect.objectContaining({ by: 'ops-oncall', action: 'approve' })]),
  );

  const late = await runCli(['approve', runId], world.env);
  expect(late.code).toBe(2);
  expect(late.stderr).toContain(`Run ${runId} has already ended (COMPLETED)`);
});
