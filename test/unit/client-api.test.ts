/**
 * The public API without a server: the package's entry points resolve by name from dist/ with
 * explicit exports, typed errors classify the run's own refusal messages, run inputs carry
 * webhooks only when asked, and the notification body a webhook receives.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decisionRefused, DecisionRefusedError, GateNotPendingError, InputError } from '../../src/client/errors';
import { buildRunInput } from '../../src/client/run-input';
import { notificationPayload } from '../../src/activities/notify/payload';
import { parseConfigFile } from '../../src/config-file';
import { GateBook } from '../../src/workflows/gates';
import type { NotificationFacts } from '../../src/shared/notifications';
import { TEST_ROLES } from '../helpers/temporal';

const REPO = path.resolve(__dirname, '..', '..');

describe('package entry points', () => {
  /** What `require(name)` exports, as a script outside the package sees it (dist/, via package.json exports). */
  const exportsOf = (name: string): Record<string, string> =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-e',
          `const m = require(${JSON.stringify(name)}); console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))))`,
        ],
        { cwd: REPO, encoding: 'utf8' },
      ),
    ) as Record<string, string>;

  it('maestro-agents exports the client, connect, errors and helpers by name', () => {
    expect(exportsOf('maestro-agents')).toMatchObject({
      connectMaestro: 'function',
      MaestroClient: 'function',
      InputError: 'function',
      RunNotFoundError: 'function',
      RunEndedError: 'function',
      GateNotPendingError: 'function',
      DecisionRefusedError: 'function',
      NoWorkerError: 'function',
      TemporalUnreachableError: 'function',
      ConfigError: 'function',
      buildRunInput: 'function',
      newRunId: 'function',
      describeFailure: 'function',
      notificationPayload: 'function',
    });
  });

  it('maestro-agents/wire exports the workflow name, messages and schemas', () => {
    expect(exportsOf('maestro-agents/wire')).toMatchObject({
      ORCHESTRATOR_WORKFLOW: 'string',
      approveSignal: 'object',
      rejectSignal: 'object',
      raiseBudgetSignal: 'object',
      decideUpdate: 'object',
      statusQuery: 'object',
      DecisionPayload: 'object',
      DecidePayload: 'object',
      RaiseBudgetPayload: 'object',
      defaultRunRoles: 'function',
    });
    const names = execFileSync(
      process.execPath,
      [
        '-e',
        `const w = require('maestro-agents/wire'); console.log([w.ORCHESTRATOR_WORKFLOW, w.approveSignal.name, w.rejectSignal.name, w.raiseBudgetSignal.name, w.decideUpdate.name, w.statusQuery.name].join(' '))`,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(names.trim()).toBe('orchestratorWorkflow approve reject raiseBudget decide status');
  });

  it.each([
    ['README.md', '### A client script'],
    ['docs/client-api.md', '## From your own code'],
  ])('%s shows examples/quickstart.ts as it is', (file, heading) => {
    const text = readFileSync(path.join(REPO, file), 'utf8');
    expect(text).toContain(heading);
    const section = text.slice(text.indexOf(heading));
    expect(section).toContain(`\`\`\`ts\n${readFileSync(path.join(REPO, 'examples', 'quickstart.ts'), 'utf8')}\`\`\``);
  });

  it('entry points list their exports explicitly (no export *)', () => {
    for (const file of ['src/index.ts', 'src/wire.ts']) {
      expect(readFileSync(path.join(REPO, file), 'utf8')).not.toMatch(/export \*/);
    }
  });
});

describe('typed refusals from the run’s own messages', () => {
  const book = () => {
    let n = 0;
    return new GateBook(() => new Date(Date.UTC(2026, 0, 1, 0, 0, n++)).toISOString());
  };
  const refusal = (b: GateBook, req: { gate?: 'plan' | 'final'; ticketId?: string }) => {
    try {
      b.resolve(req, ['T1']);
    } catch (err) {
      return decisionRefused('run-1', (err as Error).message);
    }
    throw new Error('resolve accepted the request');
  };

  it('nothing pending, wrong kind and already decided are GateNotPendingError', () => {
    const b = book();
    expect(refusal(b, {})).toBeInstanceOf(GateNotPendingError);
    const plan = b.open('plan', 'approve the plan', { onTimeout: 'wait' });
    const wrong = refusal(b, { gate: 'final' });
    expect(wrong).toBeInstanceOf(GateNotPendingError);
    expect(wrong.message).toBe('Run run-1 refused the decision: no pending final gate; pending: plan#1');
    b.settle(plan, { decision: 'approve', by: 'ana' });
    const decided = refusal(b, { gate: 'plan' });
    expect(decided).toBeInstanceOf(GateNotPendingError);
    expect(decided.reason).toMatch(/^no gate is pending: the plan gate was already approved by ana/);
  });

  it('other refusals are DecisionRefusedError (and InputError, as the CLI treats them)', () => {
    const b = book();
    b.open('ticket', 'T1 escalated', { onTimeout: 'wait' }, 'T1');
    const unknown = refusal(b, { ticketId: 'T9' });
    expect(unknown).toBeInstanceOf(DecisionRefusedError);
    expect(unknown).not.toBeInstanceOf(GateNotPendingError);
    expect(unknown).toBeInstanceOf(InputError);
    expect(unknown.reason).toMatch(/^unknown ticket T9/);
  });
});

describe('run input', () => {
  it('has no notify field without webhooks, so such runs schedule no notification activity', () => {
    const input = buildRunInput('Write a guide', {}, { roles: TEST_ROLES });
    expect(input).not.toHaveProperty('notify');
  });

  it('merges configured and per-run webhooks once each, with the Web UI base', () => {
    const input = buildRunInput(
      'Write a guide',
      { notify: ['https://hooks.example/b', 'https://hooks.example/a'] },
      { roles: TEST_ROLES, notify: ['https://hooks.example/a'], webUiUrl: 'http://localhost:8233' },
    );
    expect(input.notify).toEqual({
      urls: ['https://hooks.example/a', 'https://hooks.example/b'],
      webUiUrl: 'http://localhost:8233',
    });
  });

  it('refuses a webhook that is not an http(s) URL, naming it', () => {
    expect(() => buildRunInput('Write a guide', { notify: ['hooks.example/x'] }, { roles: TEST_ROLES })).toThrow(
      new InputError(
        '--notify: "hooks.example/x" is not an http(s) URL; give a webhook URL such as https://hooks.slack.com/services/...',
      ),
    );
  });

  it('maestro.config.json takes notify URLs and the Web UI base, and names a bad one', () => {
    const ok = parseConfigFile(
      '{"notify":["https://hooks.example/a"],"webUiUrl":"https://temporal.example"}',
      'f.json',
    );
    expect(ok).toMatchObject({ notify: ['https://hooks.example/a'], webUiUrl: 'https://temporal.example' });
    expect(() => parseConfigFile('{"notify":["ftp://hooks.example/a"]}', 'f.json')).toThrow(
      /notify\[0\]: must be an http\(s\) webhook URL/,
    );
  });
});

describe('notification body', () => {
  const facts: NotificationFacts = {
    event: 'gate-opened',
    runId: 'run-7',
    goal: 'Build a page',
    namespace: 'team-a',
    at: '2026-01-01T00:00:05.000Z',
    gate: {
      id: 'ticket:T3#2',
      kind: 'ticket',
      ticketId: 'T3',
      reason: 'T3 used up its revisions',
      openedAt: '2026-01-01T00:00:05.000Z',
      deadline: '2026-01-01T02:00:05.000Z',
      onTimeout: 'reject',
      state: 'pending',
    },
    ticketTitle: 'Build the page',
    cost: { usd: 0.0123, tokens: 4567 },
    budget: { usd: 1 },
    webUiUrl: 'https://temporal.example/',
  };

  it('a ticket gate: ids, ticket, reason, cost with budget, commands for the namespace, link, Slack text', () => {
    const p = notificationPayload(facts);
    expect(p).toEqual({
      event: 'gate-opened',
      runId: 'run-7',
      goal: 'Build a page',
      namespace: 'team-a',
      at: '2026-01-01T00:00:05.000Z',
      gate: {
        id: 'ticket:T3#2',
        kind: 'ticket',
        ticketId: 'T3',
        ticketTitle: 'Build the page',
        reason: 'T3 used up its revisions',
        openedAt: '2026-01-01T00:00:05.000Z',
        deadline: '2026-01-01T02:00:05.000Z',
        onTimeout: 'reject',
      },
      cost: { usd: 0.0123, tokens: 4567, budgetUsd: 1 },
      commands: {
        approve: `maestro approve run-7 --gate 'ticket:T3#2'`,
        reject: `maestro reject run-7 --gate 'ticket:T3#2' --comment "<why>"`,
        temporalApprove: `temporal workflow signal --namespace team-a --workflow-id run-7 --name approve --input '{"gate":"ticket:T3#2","by":"<you>"}'`,
        temporalReject: `temporal workflow signal --namespace team-a --workflow-id run-7 --name reject --input '{"gate":"ticket:T3#2","by":"<you>"}'`,
      },
      webUi: 'https://temporal.example/namespaces/team-a/workflows/run-7',
      text: [
        ':raised_hand: *Maestro run run-7 waits for a person*: ticket gate for T3 (Build the page) — T3 used up its revisions',
        'Goal: Build a page',
        'Cost so far: $0.0123 of $1.00 · 4567 tokens · deadline 2026-01-01T02:00:05.000Z (then reject)',
        "Approve: `maestro approve run-7 --gate 'ticket:T3#2'`",
        'Reject: `maestro reject run-7 --gate \'ticket:T3#2\' --comment "<why>"`',
        '<https://temporal.example/namespaces/team-a/workflows/run-7|Open the run in the Temporal Web UI>',
      ].join('\n'),
    });
  });

  it('the end of a failed run says so, with the error', () => {
    const p = notificationPayload({
      ...facts,
      event: 'run-ended',
      gate: undefined,
      webUiUrl: undefined,
      end: { phase: 'failed', accepted: 1, tickets: 3, error: 'the plan gate timed out' },
    });
    expect(p).not.toHaveProperty('commands');
    expect(p).not.toHaveProperty('webUi');
    expect(p.run).toEqual({ phase: 'failed', accepted: 1, tickets: 3, error: 'the plan gate timed out' });
    expect(p.text).toBe(
      [
        ':x: *Maestro run run-7 ended: failed* — 1/3 tickets accepted',
        'Goal: Build a page',
        'Cost: $0.0123 of $1.00 · 4567 tokens',
        'Error: the plan gate timed out',
        'Result: `maestro result run-7`',
      ].join('\n'),
    );
  });
});
