import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@temporalio/client';
import { temporal as temporalProto, type temporal } from '@temporalio/proto';
import { BenchArgsError, parseBenchArgs } from '../../src/bench/args';
import { msNumberToTs } from '@temporalio/common/lib/time';
import { historyFootprint } from '../../src/bench/claim-check';
import { shapeOf } from '../../src/bench/history-shape';
import { DAG_ROLES, DAG_SHAPES, generateDag, scheduleAll } from '../../src/bench/dag';
import { median, percentile } from '../../src/bench/stats';
import { oneContextTokens } from '../../src/bench/tokens-bench';
import { planFor } from '../../src/dev/sim-llm/plan';
import { renderTable } from '../../src/bench/table';
import { validatePlan } from '../../src/shared/plan-graph';
import type { RunResult } from '../../src/shared/types';

const SECTIONS = ['plan-graph', 'sim-llm', 'run'];

describe('bench arguments', () => {
  it('reads --quick and --only in any form, keeping the runner order', () => {
    expect(parseBenchArgs(['--only', 'run,plan-graph', '--quick'], SECTIONS)).toEqual({
      quick: true,
      help: false,
      only: ['plan-graph', 'run'],
    });
    expect(parseBenchArgs(['--only=sim-llm'], SECTIONS).only).toEqual(['sim-llm']);
    expect(parseBenchArgs([], SECTIONS)).toEqual({ quick: false, help: false });
  });

  it('names the valid sections when one is unknown', () => {
    expect(() => parseBenchArgs(['--only', 'nope'], SECTIONS)).toThrow(BenchArgsError);
    expect(() => parseBenchArgs(['--only', 'nope'], SECTIONS)).toThrow(/plan-graph, sim-llm, run/);
    expect(() => parseBenchArgs(['--fast'], SECTIONS)).toThrow(/unknown argument "--fast"/);
  });
});

describe('bench plans and scheduling', () => {
  it.each(DAG_SHAPES)('generates valid %s plans up to 1000 tickets and schedules all of them', (shape) => {
    for (const n of [1, 10, 1000]) {
      const tickets = generateDag(shape, n);
      expect(validatePlan({ tickets }, DAG_ROLES, n)).toEqual([]);
      const outcome = scheduleAll(tickets, 10);
      expect(outcome.rounds).toBe(n);
      expect(outcome.peakParallel).toBeLessThanOrEqual(10);
    }
    expect(generateDag(shape, 50)).toEqual(generateDag(shape, 50)); // reproducible
  });
});

describe('bench statistics and tables', () => {
  it('takes medians and nearest-rank percentiles', () => {
    const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(median(xs)).toBe(5.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(median([])).toBeNaN();
  });

  it('right-aligns numeric columns', () => {
    const text = renderTable({
      title: 't',
      columns: ['name', 'n'],
      rows: [
        ['a', 5],
        ['bb', 1234],
      ],
    });
    expect(text.split('\n').slice(3)).toEqual(['a         5', 'bb    1,234']);
  });
});

describe('bench claim check', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-claim-'));
  const file = path.join(dir, 'index.html');
  const content = `<!doctype html>\n<html><body>${'<p>Bean There, "fresh" coffee.</p>\n'.repeat(20)}</body></html>`;
  writeFileSync(file, content);
  const ref = { path: 'index.html', sha256: 'a'.repeat(64), bytes: content.length, uri: pathToFileURL(file).href };

  const historyWith = (payload: unknown) => ({
    events: [
      {
        workflowExecutionCompletedEventAttributes: {
          result: { payloads: [{ metadata: {}, data: Buffer.from(JSON.stringify(payload)) }] },
        },
      },
    ],
  });
  const fakeClient = (history: temporal.api.history.v1.IHistory) =>
    ({ workflow: { getHandle: () => ({ fetchHistory: async () => history }) } }) as unknown as Client;
  const result = {
    runId: 'r',
    tickets: [{ id: 'T1', childId: 'r/T1' }],
    manifest: [{ ...ref, ticketId: 'T1' }],
  } as unknown as RunResult;

  it('finds a file whose content travelled through a history', async () => {
    const h = await historyFootprint(fakeClient(historyWith({ files: [{ path: 'index.html', content }] })), result);
    expect(h).toMatchObject({ filesInHistory: 1, filesChecked: 1, events: 1, artifactBytes: content.length });
  });

  it('finds none when only the reference travelled', async () => {
    const h = await historyFootprint(fakeClient(historyWith({ artifacts: [ref] })), result);
    expect(h.filesInHistory).toBe(0);
    expect(h.protoBytes).toBeGreaterThan(0);
  });
});

describe('one-context token baseline', () => {
  it('resends every earlier prompt and answer with each call and pays each answer once', () => {
    const call = (prompt_tokens: number, completion_tokens: number) => ({
      usage: { prompt_tokens, completion_tokens },
    });
    // call 1: 10 + 5; call 2: (10 + 5) + 20 + 7; call 3: (10 + 5 + 20 + 7) + 1 + 1
    expect(oneContextTokens([call(10, 5), call(20, 7), call(1, 1)])).toBe(15 + 42 + 44);
    expect(oneContextTokens([])).toBe(0);
  });
});

describe('simulated plans for the floor benchmark', () => {
  it('[sim:width=W] lays N tickets out W per layer; W >= N makes them independent', () => {
    const roles = ['writer', 'coder'];
    const flat = planFor('Bench [sim:tickets=12] [sim:width=12]', roles);
    expect(flat.tickets).toHaveLength(12);
    expect(flat.tickets.every((t) => t.dependsOn.length === 0)).toBe(true);
    const two = planFor('Bench [sim:tickets=6] [sim:width=3]', roles);
    expect(two.tickets.map((t) => t.dependsOn)).toEqual([[], [], [], ['T1'], ['T2'], ['T3']]);
    // Without the directive the layers stay four wide, as before.
    expect(planFor('Bench [sim:tickets=6]', roles).tickets[4]?.dependsOn).toEqual(['T1']);
  });
});

describe('history shape for the floor breakdown', () => {
  it('counts events, completed workflow tasks, their time and every payload byte', () => {
    const { EventType } = temporalProto.api.enums.v1;
    const at = (ms: number) => msNumberToTs(ms);
    const payload = (text: string) => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text) });
    const history: temporal.api.history.v1.IHistory = {
      events: [
        {
          eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
          eventTime: at(0),
          workflowExecutionStartedEventAttributes: { input: { payloads: [payload('{"n":1}')] } },
        },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(0) },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(5) },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: at(25) },
        {
          eventType: EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
          eventTime: at(25),
          activityTaskScheduledEventAttributes: { input: { payloads: [payload('"abc"')] } },
        },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, eventTime: at(40) },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, eventTime: at(50) },
        { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, eventTime: at(60) },
      ],
    };
    const shape = shapeOf(history);
    expect(shape).toMatchObject({ events: 8, workflowTasks: 2, taskMs: 30, queueMs: 15, payloadBytes: 12 });
    expect(shape.byType).toMatchObject({ WORKFLOW_TASK_COMPLETED: 2, ACTIVITY_TASK_SCHEDULED: 1 });
  });
});
