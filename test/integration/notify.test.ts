/**
 * Gate notifications against a real HTTP receiver: `maestro start --notify URL` posts when the
 * plan gate opens (with the exact commands, cost so far, Web UI link and Slack `text`) and when
 * the run ends, and the command from the post really approves the run. A dead webhook and one
 * that answers 404 leave the run unaffected: it is approved while delivery is still retried,
 * completes, and both failures are in the audit log.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectMaestro } from '../../src/client/connect';
import { freePort } from '../../src/dev/dev-server';
import type { MaestroNotification } from '../../src/shared/notifications';
import { runCli } from '../helpers/cli';
import { waitForStatus, replayOnTestBundle } from '../helpers/runs';
import { testDeps, testWorker, useSimAndTemporal } from '../helpers/temporal';
import { startWebhookReceiver, type ReceivedPost, type WebhookReceiver } from '../helpers/webhook-receiver';
import { simProcessEnv, spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const env = useSimAndTemporal();
let receiver: WebhookReceiver;
let workerProcess: WorkerProcess | undefined;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await workerProcess?.kill();
  await receiver?.close();
});

const body = (p: ReceivedPost) => p.body as MaestroNotification;

function configFile(content: object): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-notify-'));
  const file = path.join(dir, 'maestro.config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

it('posts gate-opened and run-ended with the commands, cost, link and Slack text; the posted command approves', async () => {
  const cli = simProcessEnv(env.sim.baseUrl, 'notify-cli', {
    // The worker posts only to webhooks its own configuration allows; `--notify` names one of them.
    MAESTRO_CONFIG: configFile({ webUiUrl: 'http://ui.example:8233', notifyAllow: [receiver.url('/')] }),
  });
  workerProcess = await spawnWorker(cli);
  const goal = 'Build a landing page for a coffee shop called Bean There';
  const started = await runCli(['start', goal, '--plan-approval', 'manual', '--notify', receiver.url('/hook')], cli);
  expect(started.code).toBe(0);
  const runId = started.stdout.trim();

  const opened = await receiver.waitFor((p) => body(p).event === 'gate-opened' && body(p).runId === runId);
  expect(opened.headers['content-type']).toBe('application/json');
  const o = body(opened);
  expect(o).toMatchObject({
    runId,
    goal,
    namespace: 'default',
    gate: { id: 'plan#1', kind: 'plan', onTimeout: 'wait' },
    commands: {
      approve: `maestro approve ${runId} --gate 'plan#1'`,
      reject: `maestro reject ${runId} --gate 'plan#1' --comment "<why>"`,
      temporalApprove: `temporal workflow signal --workflow-id ${runId} --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
      temporalReject: `temporal workflow signal --workflow-id ${runId} --name reject --input '{"gate":"plan#1","by":"<you>"}'`,
    },
    webUi: `http://ui.example:8233/namespaces/default/workflows/${runId}`,
  });
  expect(o.gate?.reason).toMatch(/^approve the plan of 4 tickets: /);
  expect(o.cost.usd).toBeGreaterThan(0); // the Boss's planning call, so far
  expect(o.cost.tokens).toBeGreaterThan(0);
  expect(o.text).toContain(`waits for a person*: plan gate — ${o.gate?.reason}`);
  expect(o.text).toContain(`Approve: \`maestro approve ${runId} --gate 'plan#1'\``);
  expect(o.text).toContain(`<${o.webUi}|Open the run in the Temporal Web UI>`);

  // A person pastes the command from the post (a shell drops the single quotes around the gate id).
  const [program, ...args] = o.commands!.approve.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
  expect(program).toBe('maestro');
  const approved = await runCli([...args, '--by', 'on-call'], cli);
  expect(approved.stderr).toBe('');
  expect(approved.stdout).toContain('plan#1: approved (approve) by on-call');

  const ended = body(await receiver.waitFor((p) => body(p).event === 'run-ended' && body(p).runId === runId));
  expect(ended).toMatchObject({
    runId,
    run: { phase: 'completed', outcome: 'completed', accepted: 4, tickets: 4 },
    webUi: `http://ui.example:8233/namespaces/default/workflows/${runId}`,
  });
  expect(ended.cost.usd).toBeGreaterThan(o.cost.usd);
  expect(ended.text).toContain(`run ${runId} ended: completed* — 4/4 tickets accepted`);
  expect(receiver.posts.filter((p) => body(p).runId === runId).map((p) => body(p).event)).toEqual([
    'gate-opened',
    'run-ended',
  ]);
}, 180_000);

it('a dead webhook and a 404 leave the run unaffected and are audited', async () => {
  const dead = `http://127.0.0.1:${await freePort()}/hook`;
  const processEnv = simProcessEnv(env.sim.baseUrl, 'notify-dead', {
    MAESTRO_CONFIG: configFile({ notify: [dead] }),
    MAESTRO_TRUST_CONFIG: '1',
  });
  const taskQueue = processEnv.MAESTRO_TASK_QUEUE!;
  const maestro = await connectMaestro({ env: processEnv });
  env.beforeClose(() => maestro.close());
  const worker = await testWorker(
    env.conn.nativeConnection,
    taskQueue,
    testDeps(env.sim.baseUrl, { webhooks: { urls: [dead], prefixes: [receiver.url('/')] } }),
  );
  const missing = receiver.url('/status-404/hook');
  await worker.runUntil(async () => {
    const runId = await maestro.start('Write a set of short guides [sim:tickets=2]', {
      planApproval: 'manual',
      notify: [missing],
    });
    await waitForStatus(env.conn.client, runId, (s) => s.pendingGates.length === 1, 60_000, 'the plan gate');
    // The gate takes a decision at once, while the dead webhook's delivery is still being retried.
    const { gate } = await maestro.approve(runId, { by: 'ana' });
    expect(gate.state).toBe('approved');

    const r = await maestro.result(runId);
    expect(r.status).toBe('completed');
    const actions = r.audit.map((a) => `${a.action} ${a.gate ?? ''}`.trim());
    expect(actions.indexOf('approve plan#1')).toBeLessThan(
      r.audit.findIndex((a) => a.action === 'notify-failed' && a.comment?.includes('webhook 1 of 2')),
    );
    const failed = r.audit.filter((a) => a.action === 'notify-failed');
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          by: 'maestro',
          gate: 'plan#1',
          comment: 'gate-opened plan#1 to webhook 1 of 2',
          error: expect.stringMatching(/^POST to webhook http:\/\/127\.0\.0\.1:\d+ failed: ECONNREFUSED/),
        }),
        expect.objectContaining({
          gate: 'plan#1',
          comment: 'gate-opened plan#1 to webhook 2 of 2',
          error: expect.stringMatching(/answered HTTP 404 \(not retried/),
        }),
        expect.objectContaining({
          comment: 'run-ended to webhook 1 of 2',
          error: expect.stringMatching(/ECONNREFUSED/),
        }),
        expect.objectContaining({ comment: 'run-ended to webhook 2 of 2', error: expect.stringMatching(/HTTP 404/) }),
      ]),
    );
    expect(failed).toHaveLength(4);
    // A 404 is not retried: one post per notification.
    expect(receiver.posts.filter((p) => p.path.startsWith('/status-404') && body(p).runId === runId)).toHaveLength(2);
    // The notification path is deterministic: the run's history replays against the workflow code.
    const history = await env.conn.client.workflow.getHandle(runId).fetchHistory();
    expect(
      history.events?.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverNotification'),
    ).toBe(true);
    await replayOnTestBundle(history, runId);
  });
}, 180_000);
