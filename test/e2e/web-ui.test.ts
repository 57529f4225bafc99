/**
 * The Temporal Web UI as an operator uses it, in a real browser (Debian's headless Chromium via
 * playwright-core): a run's page shows its goal and ticket table, the person approves the plan
 * gate through the UI's own "Send a Signal" form, the run moves on, and its tickets show as
 * child workflows with `[role] T1 Title` summaries. Screenshots land in test-artifacts/.
 *
 * The suite's shared dev server is headless, so this file starts its own dev server with the UI
 * (free ports), a worker and the simulated LLM.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { MaestroClient } from '../../src/client/api';
import { MAESTRO_SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import type { RunResult } from '../../src/shared/types';
import { ARTIFACTS, openBrowser, prepareUiTest } from '../helpers/browser';
import { waitForStatus } from '../helpers/runs';
import { testDeps, testWorker, uniqueQueue } from '../helpers/temporal';

const GOAL = 'Build a landing page for a coffee shop called Bean There';
const EXPECTED_CHILDREN = [
  '[designer] T1 Design the visual style',
  '[writer] T2 Write the page copy',
  '[coder] T3 Build the landing page',
  '[tester] T4 Test the page',
];

jest.setTimeout(240_000);

let server: DevServer;
let sim: SimLlm;
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
    logFile: path.join(ARTIFACTS, 'web-ui-dev-server.log'),
  });
  sim = await startSimLlm({ port: 0, latencyMs: 100 });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  native = await NativeConnection.connect({ address: server.address });
  ({ browser, page } = await openBrowser());
});

afterAll(async () => {
  await browser?.close();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun?.catch(() => undefined);
  await native?.close();
  await connection?.close();
  await sim?.close();
  await server?.stop();
});

/** Runs a UI step; on failure saves a screenshot and says which step failed. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const file = path.join(ARTIFACTS, `web-ui-failure-${name.replace(/\W+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw new Error(`Web UI step "${name}" failed (screenshot: ${file}): ${(err as Error).message}`);
  }
}

/** Opens the workflow page's "Send a Signal" form and sends `approve` with `input`, as a person would. */
async function sendSignalFromUi(input: string): Promise<void> {
  await page.getByRole('button', { name: /More Actions/ }).click();
  await page.getByRole('menuitem', { name: /Send a Signal/ }).click();
  // With a worker running, the UI lists the workflow's signals (select); otherwise a text field.
  const picker = page
    .locator('[data-testid="signal-select-button"]:visible, input[data-testid="signal-name"]:visible')
    .first();
  await picker.waitFor({ state: 'visible' });
  if ((await picker.getAttribute('data-testid')) === 'signal-select-button') {
    await picker.click();
    await page.getByRole('option', { name: /^approve(\s|$)/ }).click();
  } else {
    await picker.fill('approve');
  }
  await page.locator('[role="textbox"][aria-label="Data"]:visible').click();
  await page.keyboard.insertText(input);
  const submit = page.locator('button:visible', { hasText: /^\s*Submit\s*$/ });
  await expectEnabled(submit);
  await submit.click();
  await page.getByRole('heading', { name: 'Send a Signal' }).waitFor({ state: 'hidden' });
}

async function expectEnabled(locator: ReturnType<Page['locator']>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await locator.isEnabled())) {
    if (Date.now() > deadline) throw new Error('the Submit button stayed disabled (form not filled?)');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('shows the run, approves its plan from the UI signal form, and lists the tickets as children', async () => {
  const taskQueue = uniqueQueue('web-ui');
  worker = await testWorker(native, taskQueue, testDeps(sim.baseUrl));
  workerRun = worker.run();
  const api = new MaestroClient(client, taskQueue);
  const runId = await api.start(GOAL, { runId: `${taskQueue}-run`, planApproval: 'manual' });
  const runPage = `${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(runId)}`;

  const gated = await waitForStatus(
    client,
    runId,
    (s) => s.pendingGates.some((g) => g.kind === 'plan'),
    90_000,
    'the plan gate opening',
  );
  expect(gated.tickets.every((t) => t.state === 'pending')).toBe(true);

  await step('open the run page', async () => {
    await page.goto(runPage);
    await page.getByRole('heading', { name: runId }).first().waitFor();
  });
  await step('see the goal and the ticket table', async () => {
    await page.getByText('User Metadata', { exact: true }).first().click();
    // The UI renders user metadata (markdown) in sandboxed frames.
    await page.frameLocator('#user-metadata-summary').getByText(GOAL).waitFor();
    const details = page.frameLocator('#user-metadata-current-details');
    await details.getByText('Design the visual style').waitFor(); // the live ticket table
    await details.getByText(/Waiting for a person/).waitFor();
  });
  await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-gate.png') });

  await step('send the approve signal', () => sendSignalFromUi('{"by":"web-ui-test"}'));

  const moving = await waitForStatus(
    client,
    runId,
    (s) => s.pendingGates.length === 0 && s.tickets.some((t) => t.state !== 'pending'),
    90_000,
    'the plan gate closing and tickets starting',
  );
  expect(moving.audit).toEqual(
    expect.arrayContaining([expect.objectContaining({ by: 'web-ui-test', gate: gated.pendingGates[0]!.id })]),
  );
  const result = (await client.workflow.getHandle(runId).result()) as RunResult;
  expect(result.status).toBe('completed');
  expect(result.tickets.map((t) => t.state)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);

  await step('see the tickets as children with their summaries', async () => {
    await page.goto(runPage);
    await page.getByRole('heading', { name: runId }).first().waitFor();
    // The run's timeline labels each child with its `[role] T1 Title` summary...
    for (const summary of EXPECTED_CHILDREN) await page.getByText(summary, { exact: true }).first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-run.png') });
    // ...and the relationships view lists them as the run's children `<runId>/T1` ...
    await page
      .getByText(/^\s*Relationships/)
      .first()
      .click();
    for (const id of ['T1', 'T2', 'T3', 'T4'])
      await page
        .getByRole('link', { name: `${runId}/${id}`, exact: true })
        .first()
        .waitFor();
  });
  await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-children.png'), fullPage: true });

  await step('see the finished run explained', async () => {
    await page.getByText('User Metadata', { exact: true }).first().click();
    await page.frameLocator('#user-metadata-summary').getByText(GOAL).waitFor();
    await page
      .frameLocator('#user-metadata-current-details')
      .getByText(/completed/)
      .first()
      .waitFor();
  });
  await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-details.png') });
});
