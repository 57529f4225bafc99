/**
 * A model that answers but never with a valid plan (a small local model, say) must not keep a
 * run in planning forever, even when every "planning failed — try again?" gate is approved at
 * once (as `maestro run --yes` does): its answers count as invalid plans, bounded by maxReplans.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { describeFailure } from '../../src/client/api';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import type { RunInput } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });

it('a Boss whose plans never validate ends the run after maxReplans, also with gates approved at once', async () => {
  harness.sim.injectFault({ kind: 'schema-invalid', times: 1000, match: { schemaName: SCHEMA_NAMES.plan } });
  const taskQueue = uniqueQueue('plan-bound');
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
  const started = Date.now();
  const err = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-run`,
      args: [
        {
          goal: 'Build a landing page for a bakery called Rise and Shine',
          roles: TEST_ROLES,
          maxReplans: 0,
          // Every gate approved as soon as it opens, like `maestro run --yes`.
          gatePolicies: { plan: { timeoutMs: 10, onTimeout: 'approve' } },
        } satisfies RunInput,
      ],
    });
    const timer = setTimeout(() => void handle.terminate('test bound: planning never ended'), 100_000);
    try {
      return await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    } finally {
      clearTimeout(timer);
    }
  });
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const message = describeFailure(err);
  expect(message).toContain('the Boss produced no valid plan in 1 attempt ');
  expect(message).toContain('the JSON does not match the schema');
  expect(Date.now() - started).toBeLessThan(100_000);
}, 150_000);
