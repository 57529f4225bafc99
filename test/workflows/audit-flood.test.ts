/**
 * A flood of valid-shape `raiseBudget` signals (issue 19 hostile review). Junk signals are folded
 * in the audit log (audit-limit.ts), but each valid raise used to add an entry: ten thousand of
 * them (a script, or a loop gone wrong) grew the status, the continue-as-new input and the result
 * without bound, past Temporal's 2 MB payload limit. What a person notices: the log stays short,
 * every raise is still counted, and the budget it shows is the one in force.
 */
import { raiseBudgetSignal } from '../../src/shared/messages';
import { MAX_RAISE_ENTRIES } from '../../src/workflows/audit-limit';
import { waitForStatus } from '../helpers/runs';
import { useRunWorker } from '../helpers/run-worker';
import { useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const env = useRunWorker(harness, 'audit-flood');

describe('a flood of valid raises', () => {
  it('keeps the audit log bounded and counts every raise', async () => {
    const runId = await env.api.start('Write a README for a bakery called Rise and Shine [sim:tickets=1]', {
      runId: `audit-flood-${Date.now()}`,
      budget: { usd: 5 },
      planApproval: 'manual',
    });
    await waitForStatus(harness.conn.client, runId, (s) => s.pendingGates[0]?.kind === 'plan');
    const h = harness.conn.client.workflow.getHandle(runId);
    const N = 300;
    for (let i = 0; i < N; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          h.signal(raiseBudgetSignal, { usd: 0.01, by: `script-${i + j}-${'x'.repeat(150)}` }),
        ),
      );
    const s = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => st.budget !== undefined && Math.abs(st.budget.usd! - (5 + N * 0.01)) < 1e-6,
      30_000,
      'every raise applied',
    );
    const raises = s.audit.filter((a) => a.action === 'raise-budget');
    expect(raises.length).toBeLessThanOrEqual(MAX_RAISE_ENTRIES);
    expect(raises.reduce((n, a) => n + 1 + (a.repeats ?? 0), 0)).toBe(N);
    // The last entry states the budget in force.
    expect(raises.at(-1)!.comment).toBe(`budget is now $${s.budget!.usd}`);
    await h.cancel();
  });
});
