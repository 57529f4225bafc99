/**
 * Two people approving the final gate at the same moment, each with `maestro approve` (issue 22,
 * 3.5): one wins, the other is told the gate is no longer pending (or the run has ended) and exits
 * 2, the code for a decision the run cannot take. Temporal's raw "workflow update was aborted by
 * closing workflow" once escaped here with exit 1. The timing varies, so it runs a few rounds.
 */
import type { MaestroClient } from '../../src/client/api';
import { connectMaestro } from '../../src/client/connect';
import { EXIT } from '../../src/client/exit-codes';
import { runCli } from '../helpers/cli';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('approve-race');
let maestro: MaestroClient;

beforeAll(async () => {
  maestro = await connectMaestro({ env: world.env });
});
afterAll(async () => {
  await maestro?.close();
});

it('two simultaneous `maestro approve` of the final gate: one exits 0, the other 2 with a clear message', async () => {
  const losers: string[] = [];
  for (let round = 1; round <= 3; round++) {
    const started = await runCli(
      ['start', 'Write a set of short guides [sim:tickets=1]', '--final-approval', 'manual'],
      world.env,
    );
    expect(started.code).toBe(0);
    const runId = started.stdout.trim();
    for await (const e of maestro.events(runId, { intervalMs: 100 })) {
      if (e.type === 'gate' && e.event === 'opened' && e.gate.kind === 'final') break;
      if (e.type === 'end') throw new Error(`run ${runId} ended without a final gate`);
    }
    const both = await Promise.all(
      ['ana', 'bo'].map((by) => runCli(['approve', runId, '--gate', 'final', '--by', by], world.env)),
    );
    const won = both.filter((r) => r.code === EXIT.ok);
    const lost = both.filter((r) => r.code !== EXIT.ok);
    expect(won).toHaveLength(1);
    expect(won[0]!.stdout).toMatch(/^final#1: approved \(approve\) by (ana|bo)$/m);
    expect(lost).toHaveLength(1);
    const loser = lost[0]!;
    // No raw Temporal error, no stack: Maestro's words and the documented exit code.
    expect(loser.stderr).not.toMatch(
      /aborted by closing workflow|Workflow Update failed|WorkflowNotFoundError|\n\s+at /,
    );
    expect(loser.stderr.trim()).toMatch(
      new RegExp(`^maestro: Run ${runId} (refused the decision: no gate is pending|has already ended \\(COMPLETED\\))`),
    );
    expect(loser.code).toBe(EXIT.badInput);
    losers.push(loser.stderr.trim().replaceAll(runId, '<run>'));
  }
  process.stderr.write(`the losing \`maestro approve\` of each round:\n${losers.join('\n')}\n`);
}, 240_000);
