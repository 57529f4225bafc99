/**
 * Replays recorded histories against today's workflow code: a change that would break running
 * workflows (non-determinism) fails here. Fixtures come in generations, each a folder of
 * histories recorded by the code of its time and kept for good: test/fixtures/histories (the first)
 * and histories/v2 (the current one, recorded with gate ids, per-call permits, agent loops and
 * tool approvals). They cover a finished run and every state a run can be in across a deploy (each
 * gate kind pending, a tool approval pending in an agent loop, a ticket mid-revision, a planning
 * failure, both executions of a run that continued as new with gates pending; see
 * test/helpers/history-scenarios.ts). `npm run record-histories` records the current
 * generation's missing fixtures; `MAESTRO_RECORD_HISTORIES=all` re-records that generation, only
 * after an intended change of shape that deployed runs cannot meet (say so in the commit; see
 * README "Deploying"). A new incompatible shape starts a new generation folder.
 */
import { replayOnTestBundle } from '../helpers/runs';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { SCENARIO_FILES } from '../helpers/history-scenarios';
import { recordHistories } from '../helpers/record-histories';
import { workflowBundlerOptions } from '../../src/workers/workflow-bundle-options';

const ROOT = path.join(__dirname, '..', 'fixtures', 'histories');
/** The generation the recorder writes. */
const CURRENT = path.join(ROOT, 'v2');
const REPO = path.join(__dirname, '..', '..');

/** Every generation's folder, oldest first (the root holds the first). */
const generations = (): string[] => [
  ROOT,
  ...readdirSync(ROOT)
    .filter((d) => statSync(path.join(ROOT, d)).isDirectory())
    .sort()
    .map((d) => path.join(ROOT, d)),
];
const historyFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json');
// Child ids derive from the run id, so a replay must use the recorded workflow id.
const ids = (dir: string): Record<string, string> =>
  JSON.parse(readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

interface Fixture {
  name: string;
  workflowId: string;
  history: { events: unknown[] };
}
function load(dir: string, file: string): Fixture {
  const workflowId = ids(dir)[file];
  if (!workflowId) throw new Error(`${dir}/workflow-ids.json has no workflow id for ${file}`);
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] };
  return { name: path.relative(ROOT, path.join(dir, file)), workflowId, history };
}

describe('replay of recorded histories', () => {
  beforeAll(async () => {
    const mode = process.env.MAESTRO_RECORD_HISTORIES;
    if (mode === '1' || mode === 'all') await recordHistories(CURRENT, mode === 'all');
    // The shape-change check fails every replay on purpose: keep the SDK's warnings about it quiet.
    else Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: 'ERROR' } } });
  });

  // Each generation's files plus the current scenarios' (recorded in beforeAll when asked for).
  const cases = generations().flatMap((dir) => {
    const files = dir === CURRENT ? [...new Set([...SCENARIO_FILES, ...historyFiles(dir)])] : historyFiles(dir);
    return files.map((file) => ({ name: path.relative(ROOT, path.join(dir, file)), dir, file }));
  });

  it('has a recorded history of the current generation for every in-flight path', () => {
    expect(historyFiles(CURRENT)).toEqual(expect.arrayContaining(SCENARIO_FILES));
    expect(Object.keys(ids(CURRENT))).toEqual(expect.arrayContaining(SCENARIO_FILES));
    expect(historyFiles(ROOT).length).toBeGreaterThanOrEqual(9); // the first generation stays
  });

  it('has both executions of a run that continued as new with its ticket gates pending', () => {
    type Ev = { eventType?: string; workflowExecutionStartedEventAttributes?: Record<string, unknown> };
    const events = (file: string) => load(CURRENT, file).history.events as Ev[];
    const before = events('continued-before.json');
    const after = events('continued-gates-decided.json');
    expect(before.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    const started = after[0]?.workflowExecutionStartedEventAttributes as {
      continuedExecutionRunId?: string;
      input?: { payloads?: { data?: string }[] };
    };
    expect(started.continuedExecutionRunId).toBeTruthy();
    const input = JSON.parse(Buffer.from(started.input?.payloads?.[0]?.data ?? '', 'base64').toString('utf8')) as {
      continued?: { scheduler: { gateWaits: unknown[] }; state: { book: unknown } };
    };
    expect(input.continued?.scheduler.gateWaits).toHaveLength(2);
    expect(after.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
  });

  it.each(cases)('$name replays without non-determinism', async ({ dir, file }) => {
    const f = load(dir, file);
    expect(f.history.events.length).toBeGreaterThan(5);
    await replayOnTestBundle(f.history, f.workflowId);
  });

  it('fails every history against code whose shape changed (a timer inserted before each workflow)', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(REPO, 'src', 'workflows', 'index.ts'),
      ...workflowBundlerOptions(),
      workflowInterceptorModules: [path.join(REPO, 'test', 'helpers', 'shape-change-interceptor.ts')],
      logger: new DefaultLogger('WARN'),
    });
    const fixtures = cases.map(({ dir, file }) => load(dir, file));
    // Executions of one run (continued as new) share its workflow id: results come in input order.
    const names = new Map<string, string[]>();
    for (const f of fixtures) names.set(f.workflowId, [...(names.get(f.workflowId) ?? []), f.name]);
    const outcomes: string[] = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: { code } },
      fixtures.map((f) => ({ workflowId: f.workflowId, history: f.history })),
    ))
      outcomes.push(
        `${names.get(r.workflowId)?.shift()}: ${r.error?.name === DeterminismViolationError.name ? 'non-determinism' : String(r.error?.message ?? 'replayed')}`,
      );
    expect(outcomes.sort()).toEqual(fixtures.map((f) => `${f.name}: non-determinism`).sort());
  }, 180_000);
});
