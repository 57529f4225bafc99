/**
 * The coding-agent CLI lines of `maestro watch`: heartbeat details are written by a worker from a
 * model-driven stream, so the watcher shows what is sound in them as one bounded terminal line and
 * nothing at all for details of the wrong shape.
 */
import type { Client } from '@temporalio/client';
import { encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import {
  MAX_DESCRIBES,
  fetchExecutorProgress,
  executorLines,
  executorProgressLine,
  parseExecutorProgress,
  shortCount,
} from '../../src/client/watch/executor-progress';
import { renderWatch, type WatchSnapshot } from '../../src/client/watch/render';
import { status, ticket } from '../helpers/status-fixtures';

const good = {
  executor: { agent: 'codex', turns: 3, toolCalls: 5, lastTool: 'apply_patch', tokens: 12_345 },
  calls: [],
};

describe('parseExecutorProgress', () => {
  it('reads what runExecutor heartbeats', () => {
    expect(parseExecutorProgress(good)).toEqual({
      agent: 'codex',
      turns: 3,
      toolCalls: 5,
      lastTool: 'apply_patch',
      tokens: 12_345,
    });
  });

  it.each([
    ['undefined', undefined],
    ['a string', 'executor'],
    ['an array', [good]],
    ['no executor', { calls: [] }],
    ['executor not an object', { executor: 'codex' }],
    ['executor an array', { executor: ['codex'] }],
    ['no agent', { executor: { turns: 1 } }],
    ['agent not a string', { executor: { agent: 42 } }],
    ['agent empty', { executor: { agent: '  ' } }],
  ])('shows nothing for details of the wrong shape (%s)', (_why, details) => {
    expect(parseExecutorProgress(details)).toBeUndefined();
  });

  it('reads wrong fields as 0 or leaves them out, keeping the sound ones', () => {
    const p = parseExecutorProgress({
      executor: { agent: 'claude-code', turns: -1, toolCalls: 'many', lastTool: { x: 1 }, tokens: 1e300 },
    });
    expect(p).toEqual({ agent: 'claude-code', turns: 0, toolCalls: 0, tokens: 0 });
    expect(parseExecutorProgress({ executor: { agent: 'x', turns: NaN, toolCalls: Infinity, tokens: 2.7 } })).toEqual({
      agent: 'x',
      turns: 0,
      toolCalls: 0,
      tokens: 2,
    });
  });
});

describe('executorProgressLine', () => {
  it('says turn, tool calls, last tool and tokens in one line', () => {
    expect(executorProgressLine('T2', 'coder', parseExecutorProgress(good)!)).toBe(
      'T2 [coder] codex: turn 3, 5 tool calls, last: apply_patch, 12.3k tokens',
    );
    expect(executorProgressLine('T1', 'tester', { agent: 'claude-code', turns: 0, toolCalls: 1, tokens: 0 })).toBe(
      'T1 [tester] claude-code: starting, 1 tool call, 0 tokens',
    );
    expect(
      executorProgressLine('T1', 'coder', { agent: 'codex', turns: 1, toolCalls: 0, tokens: 5, activityAttempt: 2 }),
    ).toBe('T1 [coder] codex: turn 1, 0 tool calls, 5 tokens, start 2');
  });

  it('shows escape sequences, bidi and line breaks escaped, never raw, and stays short', () => {
    const hostile = parseExecutorProgress({
      executor: {
        agent: 'codex\u001b[2J',
        turns: 1,
        toolCalls: 1,
        lastTool: `Bash\u202e\nWaiting for a person: final#9\u0007${'x'.repeat(10_000)}`,
        tokens: 1,
      },
    })!;
    const line = executorProgressLine('T2', 'coder', hostile);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200f]/);
    expect(line).toContain('codex\\x1b[2J');
    expect(line).toContain('Bash\\u202e');
    expect(line.length).toBeLessThanOrEqual(160);
    // Even a view that never went through the parser is cut and escaped.
    const raw = executorProgressLine('T2', 'coder', {
      agent: '\u001b]0;x\u0007'.repeat(50),
      turns: 1,
      toolCalls: 0,
      tokens: 0,
    });
    expect(raw).not.toMatch(/[\u0000-\u001f]/);
    expect(raw.length).toBeLessThanOrEqual(160);
  });

  it('counts tokens short', () => {
    expect([0, 999, 1000, 12_345, 4_100_000].map(shortCount)).toEqual(['0', '999', '1k', '12.3k', '4.1M']);
  });
});

describe('the watch screen', () => {
  const snap = (extra: Partial<WatchSnapshot>): WatchSnapshot => ({
    status: status({ tickets: [ticket('T1', 'accepted'), ticket('T2', 'running'), ticket('T3', 'running')] }),
    progress: {},
    execution: 'RUNNING',
    ...extra,
  });

  it('shows a line per working CLI, in ticket order, only while the run runs', () => {
    const executors = {
      T3: { agent: 'claude-code', turns: 1, toolCalls: 0, tokens: 10 },
      T2: parseExecutorProgress(good)!,
    };
    const lines = renderWatch(snap({ executors }), { now: new Date(), width: 120 });
    const cli = lines.filter((l) => / \[writer\] /.test(l));
    expect(cli).toEqual([
      'T2 [writer] codex: turn 3, 5 tool calls, last: apply_patch, 12.3k tokens',
      'T3 [writer] claude-code: turn 1, 0 tool calls, 10 tokens',
    ]);
    const ended = renderWatch(snap({ executors, execution: 'COMPLETED' }), { now: new Date(), width: 120 });
    expect(ended.join('\n')).not.toContain('[writer] codex');
    // A ticket the run does not know (forged or stale) gets no line.
    expect(executorLines([{ id: 'T1', role: 'coder' }], { T9: good.executor })).toEqual([]);
  });
});

describe('fetchExecutorProgress', () => {
  const codec = new AesGcmCodec({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 7) } });
  const encrypted = loadDataConverter({ payloadCodecs: [codec] });

  /** A client whose describes answer with `details(i)` as the pending runExecutor's heartbeat. */
  function fakeClient(details: (childId: string) => unknown, converter = encrypted) {
    const described: string[] = [];
    const client = {
      options: { loadedDataConverter: converter },
      connection: { withDeadline: (_d: number, fn: () => Promise<unknown>) => fn() },
      workflow: {
        getHandle: (id: string) => ({
          describe: async () => {
            described.push(id);
            const d = await details(id);
            if (d instanceof Error) throw d;
            return { raw: { pendingActivities: d === undefined ? [] : [d] } };
          },
        }),
      },
    } as unknown as Client;
    return { client, described };
  }
  const pending = async (value: unknown, attempt = 1) => ({
    activityType: { name: 'runExecutor' },
    attempt,
    heartbeatDetails: { payloads: await encodeToPayloads(encrypted, value) },
  });
  const tickets = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `T${i + 1}`, childId: `run/T${i + 1}` }));

  it('decodes encrypted heartbeat details with the client converter, and counts the activity attempt', async () => {
    const { client } = fakeClient(() => pending(good, 2));
    expect(await fetchExecutorProgress(client, tickets(1), () => 0)).toEqual({
      T1: { ...parseExecutorProgress(good), activityAttempt: 2 },
    });
    // The payload really is encrypted: without the codec it cannot be read, and nothing shows.
    const { client: noKey } = fakeClient(() => pending(good), loadDataConverter());
    expect(await fetchExecutorProgress(noKey, tickets(1), () => 0)).toEqual({});
  });

  it('describes at most MAX_DESCRIBES children per poll, going round the list', async () => {
    const { client, described } = fakeClient(() => pending(good));
    const got = await fetchExecutorProgress(client, tickets(30), () => 0);
    expect(described).toHaveLength(MAX_DESCRIBES);
    expect(Object.keys(got)).toHaveLength(MAX_DESCRIBES);
    // The next poll goes on round the list (28, 29, 30, then 1...).
    described.length = 0;
    await fetchExecutorProgress(client, tickets(30), () => 0, MAX_DESCRIBES, 27);
    expect(described.slice(0, 4)).toEqual(['run/T28', 'run/T29', 'run/T30', 'run/T1']);
    expect(described).toHaveLength(MAX_DESCRIBES);
  });

  it('leaves out a child that fails, has no CLI activity, another activity, garbage bytes or a wrong shape', async () => {
    const answers: Record<string, () => unknown> = {
      'run/T1': () => new Error('deadline exceeded'),
      'run/T2': () => undefined,
      'run/T3': async () => ({ ...(await pending(good)), activityType: { name: 'performTicket' } }),
      'run/T4': () => ({
        activityType: { name: 'runExecutor' },
        heartbeatDetails: {
          payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('junk') }],
        },
      }),
      'run/T5': () => pending({ executor: 'codex' }),
      'run/T6': () => pending(good),
    };
    const { client } = fakeClient((id) => answers[id]!());
    expect(Object.keys(await fetchExecutorProgress(client, tickets(6), () => 0))).toEqual(['T6']);
  });
});
