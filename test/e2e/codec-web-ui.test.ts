/**
 * The Web UI on an encrypted run, in a real browser (Debian's headless Chromium via
 * playwright-core): the dev server's UI is pointed at `maestro codec-server`'s endpoint with its
 * token in the path (`--ui-codec-endpoint`, as `maestro dev` does), so the browser decodes the
 * run's summary through it and shows the goal,
 * though Temporal only stores ciphertext. Without the codec endpoint the same page cannot show it.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { MaestroClient } from '../../src/client/api';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { startCodecServer, type CodecServer } from '../../src/codec/codec-server';
import { freePort, MAESTRO_SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../../src/dev/dev-server';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { createMaestroWorker } from '../../src/workers/create-worker';
import { ARTIFACTS, openBrowser, prepareUiTest } from '../helpers/browser';
import { waitForStatus } from '../helpers/runs';
import { testDeps, uniqueQueue } from '../helpers/temporal';

const GOAL = 'Build a landing page for a flower shop called Secret Garden';

jest.setTimeout(240_000);

const codec = new AesGcmCodec({ currentKeyId: 'ui', keys: { ui: Buffer.alloc(32, 5) } });
let server: DevServer;
let codecServer: CodecServer;
let sim: SimLlm;
let connection: Connection;
let native: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const cliPath = prepareUiTest();
  const uiPort = await freePort('127.0.0.1');
  // With a token, as `maestro dev` starts it: the UI can only send it in the endpoint's path.
  codecServer = await startCodecServer({
    codec,
    port: 0,
    corsOrigins: [`http://127.0.0.1:${uiPort}`],
    authToken: randomBytes(32).toString('base64url'),
  });
  server = await startDevServer({
    cliPath,
    port: 0,
    uiPort,
    uiCodecEndpoint: codecServer.endpoint,
    searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
    logFile: path.join(ARTIFACTS, 'codec-web-ui-dev-server.log'),
  });
  sim = await startSimLlm({ port: 0 });
  connection = await Connection.connect({ address: server.address });
  native = await NativeConnection.connect({ address: server.address });
  ({ browser, page } = await openBrowser());
});

afterAll(async () => {
  // In reverse order of creation: the browser, the worker and connections, then the servers.
  const stops = [
    () => browser?.close(),
    async () => {
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => undefined);
    },
    () => native?.close(),
    () => connection?.close(),
    () => sim?.close(),
    () => server?.stop(),
    () => codecServer?.close(),
  ];
  for (const stop of stops) await stop();
});

it('shows the goal of an encrypted run through the codec server', async () => {
  const taskQueue = uniqueQueue('codec-ui');
  const dataConverter = { payloadCodecs: [codec] };
  worker = await createMaestroWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    deps: testDeps(sim.baseUrl),
    dataConverter,
    workflowBundlePath: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE,
  });
  workerRun = worker.run();
  const client = new Client({ connection, dataConverter });
  const runId = await new MaestroClient(client, taskQueue).start(GOAL, {
    runId: `${taskQueue}-run`,
    planApproval: 'manual',
  });
  await waitForStatus(client, runId, (s) => s.pendingGates.some((g) => g.kind === 'plan'), 90_000, 'the plan gate');

  // The stored summary is ciphertext: a client without the codec cannot read it.
  const raw = await connection.workflowService.describeWorkflowExecution({
    namespace: 'default',
    execution: { workflowId: runId },
  });
  const summary = raw.executionConfig?.userMetadata?.summary;
  expect(Buffer.from(summary?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  expect(Buffer.from(summary?.data ?? []).toString('latin1')).not.toContain('Secret Garden');

  try {
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(runId)}`);
    await page.getByRole('heading', { name: runId }).first().waitFor();
    await page.getByText('User Metadata', { exact: true }).first().click();
    await page.frameLocator('#user-metadata-summary').getByText(GOAL).waitFor();
    await page
      .frameLocator('#user-metadata-current-details')
      .getByText(/Waiting for a person/)
      .waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'codec-web-ui.png') });
  } catch (err) {
    const file = path.join(ARTIFACTS, 'codec-web-ui-failure.png');
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw new Error(`The Web UI did not show the decrypted goal (screenshot: ${file}): ${(err as Error).message}`);
  }
  await client.workflow.getHandle(runId).cancel();
});
