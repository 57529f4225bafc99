/**
 * Model text is untrusted wherever Maestro shows it (issue 19, items 7.3-7.5). The simulated
 * model is told (`[sim:hostile=1]`) to answer with hostile text in every free-text field: fake
 * gate lines after newlines and CRs, markdown headings, links and tables, `<img onerror>` and
 * `<script>`, bidi overrides, zero-width and control characters, terminal escapes, Slack
 * `<!channel>`, `<url|text>` and `@here`. A real run goes through its plan, ticket and final gates
 * while the test checks every place that text is shown: the Temporal Web UI in a browser (the
 * run's and a ticket's summaries and details, the timeline), the terminal (`maestro status`,
 * `maestro watch`, the gate prompt of `maestro run`, `maestro result`) and the webhook posts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { MaestroClient } from '../../src/client/api';
import { answerGate } from '../../src/client/gate-prompt';
import { renderWatch } from '../../src/client/watch/render';
import { printableDeep } from '../../src/shared/control-chars';
import { MAESTRO_SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { FAKE_GATE, HOSTILE_DIRECTIVE } from '../../src/dev/sim-llm/hostile';
import type { GateView, RunResult, RunStatus } from '../../src/shared/types';
import { ARTIFACTS, openBrowser, prepareUiTest } from '../helpers/browser';
import { CLI, cleanEnv, runCli } from '../helpers/cli';
import { pageProblems, terminalProblems, webhookProblems } from '../helpers/hostile-checks';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue } from '../helpers/temporal';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';

const GOAL = `Write two short notes about green tea [sim:tickets=2] [sim:revise=1] ${HOSTILE_DIRECTIVE}`;

jest.setTimeout(600_000);

let server: DevServer;
let sim: SimLlm;
let receiver: WebhookReceiver;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let worker: Worker;
let workerRun: Promise<void>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const cliPath = prepareUiTest();
  server = await startDevServer({
    cliPath,
    port: 0,
    uiPort: 0,
    searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
    logFile: path.join(ARTIFACTS, 'hostile-text-dev-server.log'),
  });
  sim = await startSimLlm({ port: 0 });
  receiver = await startWebhookReceiver();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  native = await NativeConnection.connect({ address: server.address });
  ({ browser, page } = await openBrowser());
});

afterAll(async () => {
  const stops = [
    () => browser?.close(),
    async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => undefined);
    },
    () => native?.close(),
    () => connection?.close(),
    () => sim?.close(),
    () => receiver?.close(),
    () => server?.stop(),
  ];
  for (const stop of stops) await stop();
});

/** Everything found wrong, by place; the test fails with all of it at once. */
const problems: string[] = [];

/** Opens a workflow page in the Web UI with its user metadata, and records what is wrong on it. */
async function checkUiPage(workflowId: string, what: string): Promise<void> {
  await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  await page.getByRole('heading', { name: workflowId }).first().waitFor();
  // The timeline first (the page's default view: child and activity summaries), then the metadata.
  await page.waitForTimeout(1500);
  await page.screenshot({
    path: path.join(ARTIFACTS, `hostile-${what.replace(/\W+/g, '-')}-timeline.png`),
    fullPage: true,
  });
  problems.push(...(await pageProblems(page, `Web UI ${what} (timeline)`)));
  const metadata = page.getByText('User Metadata', { exact: true }).first();
  if (await metadata.isVisible()) await metadata.click();
  await page.locator('iframe[id^="user-metadata"]').first().waitFor({ timeout: 15_000 });
  // The frames render their markdown after loading.
  await page.waitForTimeout(1000);
  await page.screenshot({ path: path.join(ARTIFACTS, `hostile-${what.replace(/\W+/g, '-')}.png`), fullPage: true });
  problems.push(...(await pageProblems(page, `Web UI ${what}`)));
}

/** `maestro <args>` against the test's server and queue; records its problems; returns stdout. */
async function checkCli(env: NodeJS.ProcessEnv, args: string[], what: string, code = 0): Promise<string> {
  const res = await runCli(args, env, 60_000);
  if (res.code !== code) problems.push(`${what}: exit ${res.code}: ${res.stderr.slice(0, 500)}`);
  problems.push(...terminalProblems(what, res.stdout + res.stderr));
  return res.stdout;
}

/** The gate prompt `maestro run` prints (print mode: the commands), from the run's real status. */
async function checkGatePrompt(api: MaestroClient, runId: string, gate: GateView, what: string): Promise<void> {
  const lines: string[] = [];
  await answerGate(api, runId, gate, 'print', (l) => lines.push(l));
  problems.push(...terminalProblems(what, lines.join('\n')));
}

/** The `maestro watch` screen (TTY mode) of the run's real status, as the watch command draws it. */
function checkWatchScreen(status: RunStatus, what: string): void {
  const lines = renderWatch(
    { status: printableDeep(status), progress: {}, execution: 'RUNNING' },
    { now: new Date(), width: 200, color: false },
  );
  problems.push(...terminalProblems(what, lines.join('\n')));
}

it('shows hostile model text as plain one-line text in the Web UI, the terminal and webhooks', async () => {
  const taskQueue = uniqueQueue('hostile');
  // The worker posts only to webhooks its configuration allows (runs name them).
  const webhooks = { urls: [receiver.url('/slack')], prefixes: [] };
  worker = await testWorker(native, taskQueue, testDeps(sim.baseUrl, { webhooks }));
  workerRun = worker.run();
  const api = new MaestroClient(client, taskQueue);
  const runId = await api.start(GOAL, {
    runId: `${taskQueue}-run`,
    planApproval: 'manual',
    finalApproval: 'manual',
    maxRevisions: 0,
    notify: [receiver.url('/slack')],
  });
  const env = cleanEnv({
    TEMPORAL_ADDRESS: server.address,
    MAESTRO_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: sim.baseUrl,
    OPENAI_API_KEY: 'sim',
    MAESTRO_HOME: mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-')),
  });
  // `maestro watch` (piped: one line per change) follows the whole run.
  const watch = spawn(process.execPath, [CLI, 'watch', runId, '--interval', '200'], { env });
  let watched = '';
  watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
  watch.stderr.on('data', (d: Buffer) => (watched += d.toString()));
  const watchEnded = new Promise<void>((resolve) => watch.on('close', () => resolve()));

  // The plan gate: its reason carries the plan summary; the tickets carry titles and specs.
  const planned = await waitForStatus(client, runId, (s) => s.pendingGates.some((g) => g.kind === 'plan'), 90_000);
  expect(planned.planSummary).toContain(FAKE_GATE); // the model did plant its text
  await checkUiPage(runId, 'run at the plan gate');
  await checkCli(env, ['status', runId], 'maestro status at the plan gate');
  await checkGatePrompt(api, runId, planned.pendingGates[0]!, 'gate prompt of the plan');
  checkWatchScreen(planned, 'watch screen at the plan gate');
  await api.decide(runId, { gate: planned.pendingGates[0]!.id, decision: 'approve', by: 'test' });

  // Ticket gates: each reason carries the Boss's review feedback.
  const escalated = await waitForStatus(
    client,
    runId,
    (s) => s.pendingGates.some((g) => g.kind === 'ticket'),
    120_000,
    'a ticket gate',
  );
  await checkUiPage(runId, 'run at a ticket gate');
  await checkUiPage(`${runId}/T1`, 'ticket T1');
  await checkCli(env, ['status', runId], 'maestro status at a ticket gate');
  checkWatchScreen(escalated, 'watch screen at a ticket gate');
  for (;;) {
    const s = await api.status(runId);
    const gate = s.pendingGates[0];
    if (s.phase !== 'executing' && gate?.kind !== 'ticket') break;
    if (!gate) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    await checkGatePrompt(api, runId, gate, `gate prompt of ${gate.id}`);
    await api.decide(runId, { gate: gate.id, decision: 'approve', by: 'test' });
  }

  // The final gate: its reason carries the report headline.
  const final = await waitForStatus(client, runId, (s) => s.pendingGates.some((g) => g.kind === 'final'), 90_000);
  await checkUiPage(runId, 'run at the final gate');
  await checkCli(env, ['status', runId], 'maestro status at the final gate');
  await checkGatePrompt(api, runId, final.pendingGates[0]!, 'gate prompt of the final report');
  checkWatchScreen(final, 'watch screen at the final gate');
  await api.decide(runId, { gate: final.pendingGates[0]!.id, decision: 'approve', by: 'test' });
  const result = (await client.workflow.getHandle(runId).result()) as RunResult;
  expect(result.report.headline).toContain(FAKE_GATE);

  await checkUiPage(runId, 'finished run');
  await checkCli(env, ['status', runId], 'maestro status of the finished run');
  await checkCli(
    env,
    ['result', runId, '--out', mkdtempSync(path.join(os.tmpdir(), 'hostile-out-'))],
    'maestro result',
    3, // partial: the tickets were approved at their gates over the review's failures
  );
  await watchEnded;
  problems.push(...terminalProblems('maestro watch (piped)', watched));

  // Webhooks: one post per gate and one at the end, none with Slack syntax or control characters from the model.
  const posts = await receiver.waitFor((p) => (p.body as { event?: string }).event === 'run-ended');
  expect(
    receiver.posts.filter((p) => (p.body as { event?: string }).event === 'gate-opened').length,
  ).toBeGreaterThanOrEqual(3);
  for (const p of [...receiver.posts, posts])
    problems.push(
      ...webhookProblems(p.body).map(
        (x) => `webhook ${(p.body as { gate?: { id?: string } }).gate?.id ?? 'end'}: ${x}`,
      ),
    );

  expect([...new Set(problems)]).toEqual([]);
});
