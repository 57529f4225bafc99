/**
 * `maestro run --yes` against models that cannot do the job (issue 8, items 2, 3, 16): it must
 * end, fail with a message saying why, and never approve a ticket that has no result. The CLI is
 * a subprocess; a `maestro worker` process executes the run against the simulated LLM, whose
 * fault injection plays the model that never answers in shape.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { runCli } from '../helpers/cli';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('run-yes');
afterEach(() => world.sim.clearFaults());

it('a model that never produces a valid plan: --yes ends failed after at most (maxReplans + 1) x 2 calls', async () => {
  world.sim.injectFault({ kind: 'schema-invalid', times: 1000, match: { schemaName: SCHEMA_NAMES.plan } });
  world.sim.clearRequests();
  const res = await runCli(
    ['run', 'Build a landing page for a tea room called Steep', '--yes', '--max-replans', '2'],
    world.env,
    120_000,
  );
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(
    /Run maestro-\S+ failed: the Boss produced no valid plan in 3 attempts \(--max-replans 2\); last problems: boss plan \(attempt 3\): the JSON does not match the schema/,
  );
  const calls = world.sim.requests().filter((q) => q.schemaName === SCHEMA_NAMES.plan);
  expect(calls.length).toBeLessThanOrEqual((2 + 1) * 2);
  expect(calls).toHaveLength(6);
});

it('a model whose work never validates: --yes skips the tickets (no result to approve) and the run fails', async () => {
  world.sim.injectFault({ kind: 'schema-invalid', times: 1000, match: { schemaName: SCHEMA_NAMES.work } });
  const res = await runCli(['run', 'Build a landing page for a tea room called Oolong', '--yes'], world.env, 150_000);
  expect(res.code).toBe(1);
  const out = res.stdout + res.stderr;
  expect(out).toContain('skipped (there is no result to approve) by --yes');
  expect(out).not.toContain('without a result');
  expect(out).toMatch(/failed: no ticket was accepted, so the run produced nothing: T1 skipped/);
  expect(out).not.toContain('Files (0) assembled');
});
