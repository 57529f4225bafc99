/**
 * The live view of pending activities (`fetchLiveActivities`): the plan's progress and retry from
 * the run's own describe, a ticket's from its child, an agent ticket's from its agent-loop child
 * (its turns run there), heartbeat details decoded with the client's converter (encrypted here),
 * and nothing from a describe that fails or from details of the wrong shape.
 */
import type { Client } from '@temporalio/client';
import { encodeToPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { fetchLiveActivities } from '../../src/client/watch/live-activities';
import { pendingActivitiesOf } from '../../src/client/watch/pending-activities';

const codec = new AesGcmCodec({ currentKeyId: 'k1', keys: { k1: Buffer.alloc(32, 7) } });
const converter = loadDataConverter({ payloadCodecs: [codec] });
const progress = (tokens: number) => ({
  calls: [],
  llm: { tokens, tokensPerSecond: 5, startedAt: '2026-12-07T12:00:00Z' },
});

async function activity(name: string, details: unknown, extra: Record<string, unknown> = {}) {
  return {
    activityType: { name },
    attempt: 1,
    heartbeatDetails: details === undefined ? null : { payloads: await encodeToPayloads(converter, details) },
    ...extra,
  };
}

function fakeClient(raws: Record<string, () => unknown>) {
  const described: string[] = [];
  const client = {
    options: { loadedDataConverter: converter },
    connection: { withDeadline: (_d: number, fn: () => Promise<unknown>) => fn() },
    workflow: {
      getHandle: (id: string) => ({
        describe: async () => {
          described.push(id);
          const raw = await raws[id]?.();
          if (raw === undefined || raw instanceof Error) throw raw ?? new Error('not found');
          return { raw };
        },
      }),
    },
  } as unknown as Client;
  return { client, described };
}

describe('fetchLiveActivities', () => {
  it('reads the plan, a worker ticket and an agent ticket (through its loop), with their retries', async () => {
    const runRaw = {
      pendingActivities: [
        await activity('planGoal', progress(7), {
          attempt: 2,
          maximumAttempts: 5,
          lastFailure: { message: 'plan: the LLM server sent no token for 60 s' },
        }),
      ],
    };
    const { client, described } = fakeClient({
      'run/T1': async () => ({ pendingActivities: [await activity('performTicket', progress(40))] }),
      'run/T2': () => ({ pendingActivities: [], pendingChildren: [{ workflowId: 'run/T2/agent-1' }] }),
      'run/T2/agent-1': async () => ({
        pendingActivities: [
          await activity('agentTurn', progress(12), { attempt: 3, lastFailure: { message: 'boom \u001b[2J' } }),
        ],
      }),
      'run/T3': () => new Error('deadline exceeded'),
      'run/T4': async () => ({ pendingActivities: [await activity('performTicket', { llm: { tokens: 'many' } })] }),
    });
    const live = await fetchLiveActivities(
      client,
      await pendingActivitiesOf(client, runRaw),
      ['T1', 'T2', 'T3', 'T4'].map((id) => ({ id, childId: `run/${id}` })),
      () => 0,
      8,
    );
    expect(Object.fromEntries(Object.entries(live.llm).map(([k, v]) => [k, v.tokens]))).toEqual({
      plan: 7,
      T1: 40,
      T2: 12,
    });
    expect(live.retries).toEqual([
      { what: 'plan', attempt: 2, maximumAttempts: 5, reason: 'plan: the LLM server sent no token for 60 s' },
      { what: 'T2 turn', attempt: 3, reason: 'boom \u001b[2J' },
    ]);
    expect(described).toEqual(['run/T1', 'run/T2', 'run/T3', 'run/T4', 'run/T2/agent-1']);
  });

  it('skips forged attempts and activity types, and details it cannot decode', async () => {
    const { client } = fakeClient({});
    const got = await pendingActivitiesOf(client, {
      pendingActivities: [
        { activityType: { name: 'performTicket' }, attempt: 1e300 },
        { activityType: { name: 42 }, attempt: 2 },
        {
          activityType: { name: 'performTicket' },
          attempt: 2,
          heartbeatDetails: {
            payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') }],
          },
        },
      ],
    });
    expect(got).toEqual([{ type: 'performTicket', attempt: 2 }]);
  });
});
