/**
 * A run's result and audit log at the schema maxima: 100 tickets with the longest spec and
 * criteria, 20 files each, 60 LLM calls each, a ticket gate each, and 10,000 junk signals. The
 * result must stay well under Temporal's 2 MB payload limit (its large parts go to the artifact
 * store, a real filesystem store here, and come back intact), and the junk must not grow the log.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { createRecordActivities, recordChunkReader } from '../../src/activities/records';
import {
  chunksOf,
  partItems,
  RECORD_PARTS,
  recordsTooLarge,
  restoreRecords,
  withoutStoredParts,
  type RunRecords,
} from '../../src/shared/run-records';
import type { Plan } from '../../src/shared/schemas';
import type { LlmCallRecord, TicketOutcome } from '../../src/shared/types';
import { emptyUsage } from '../../src/shared/usage';
import { IGNORED_MORE, MAX_IGNORED_ENTRIES } from '../../src/workflows/audit-limit';
import { RunState } from '../../src/workflows/run-state';

const MB = 1024 * 1024;
const text = (n: number, c = 'x') => c.repeat(n);
const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

function maximalRun(): RunState {
  const tickets = Array.from({ length: 100 }, (_, i) => ({
    id: `T${i + 1}`,
    role: 'coder',
    title: text(200),
    spec: text(4000),
    acceptanceCriteria: Array.from({ length: 12 }, () => text(500)),
    dependsOn: Array.from({ length: Math.min(i, 50) }, (_, j) => `T${j + 1}`),
  }));
  const plan: Plan = { summary: text(2000), tickets };
  let clock = 0;
  const state = new RunState('maestro-max', { goal: text(4000), roles: [] }, () =>
    new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString(),
  );
  state.adoptPlan(plan);
  for (const t of tickets) {
    const calls: LlmCallRecord[] = Array.from({ length: 60 }, (_, k) => ({
      kind: k % 2 ? 'review' : 'work',
      role: k % 2 ? 'boss' : 'coder',
      ticketId: t.id,
      model: 'gpt-4.1-mini-2025-04-14',
      promptTokens: 12345,
      cachedTokens: 1024,
      completionTokens: 4321,
      usd: 0.012345,
      latencyMs: 54321,
      attempt: 1 + (k % 5),
      startedAt: '2026-01-01T00:00:00.000Z',
      repaired: k % 3 === 0,
      error: k % 4 === 0 ? 'MaestroLlmRateLimited' : undefined,
      taskQueue: 'maestro-role-coder',
      workerIdentity: '12345@worker-host-with-a-long-name.example.internal',
    }));
    const outcome: TicketOutcome = {
      ticketId: t.id,
      status: 'accepted',
      attempts: 3,
      summary: text(2000),
      artifacts: Array.from({ length: 20 }, (_, f) => ({
        path: `${text(180, 'p')}/file-${f}.ts`,
        sha256: 'a'.repeat(64),
        bytes: 200_000,
        uri: `file:///home/someone/.maestro/artifacts/blobs/aa/${'a'.repeat(64)}`,
      })),
      reviews: [],
      workUsage: emptyUsage(),
      reviewUsage: emptyUsage(),
      calls,
    };
    const gate = state.book.open('ticket', text(2000), { onTimeout: 'wait' }, t.id);
    state.book.settle(gate, { decision: 'approve', by: text(200), comment: text(4000) });
    state.settleSpending(outcome);
    state.accept(outcome);
  }
  // Junk: ten thousand invalid signals, a few kinds repeated and many different ones.
  for (let i = 0; i < 10_000; i++) {
    const error = i % 2 ? 'invalid payload: seq: Too small: expected number to be >0' : `unknown ticket X${i}`;
    state.book.log({ by: 'mallory', action: 'ignored-spendRequest', error });
  }
  return state;
}

describe('the result at the schema maxima', () => {
  it('keeps the result well under 2 MB: plan, manifest and call records go to the store and come back', async () => {
    const state = maximalRun();
    const full = state.result({ headline: text(300), summary: text(4000), followUps: [text(200)] });
    // Inline, this result could not be returned at all.
    expect(size(full)).toBeGreaterThan(2 * MB);
    expect(recordsTooLarge(full)).toBe(true);

    // What the run does at its end (workflows/records.ts), with the real activity and store.
    const store = new FsArtifactStore(mkdtempSync(path.join(os.tmpdir(), 'maestro-records-')));
    const { storeRunRecords } = createRecordActivities({ store });
    const records: RunRecords = {};
    for (const part of RECORD_PARTS) {
      const chunks = chunksOf(partItems(full, part));
      // Every activity input is far below the limit too.
      for (const items of chunks) expect(size(items)).toBeLessThan(MB);
      records[part] = await Promise.all(
        chunks.map((items, chunk) => storeRunRecords({ runId: full.runId, part, chunk, items })),
      );
    }
    const returned = withoutStoredParts(full, records);
    expect(size(returned)).toBeLessThan(MB);
    expect(returned.plan.summary).toBe(full.plan.summary);
    expect(returned.manifest).toEqual([]);

    // Whoever shares the store gets every part back, unchanged.
    const restored = await restoreRecords(returned, recordChunkReader(store));
    expect(restored.plan).toEqual(full.plan);
    expect(restored.manifest).toHaveLength(2000);
    expect(restored.manifest).toEqual(full.manifest);
    expect(restored.calls).toEqual(full.calls);
    expect(restored.gates).toEqual(full.gates);
    expect(restored.audit).toEqual(full.audit);
    expect(restored).toEqual({ ...full, records });
  });

  it('keeps ten thousand junk signals to a bounded, counted audit log', () => {
    const { audit } = maximalRun().status();
    const ignored = audit.filter((a) => a.action.startsWith('ignored-'));
    expect(ignored.length).toBeLessThanOrEqual(MAX_IGNORED_ENTRIES + 1);
    const repeated = ignored.find((a) => a.error?.startsWith('invalid payload: seq'))!;
    expect(repeated.repeats).toBe(5000 - 1);
    const more = ignored.find((a) => a.action === IGNORED_MORE)!;
    // 5,000 different ones: the first 49 are listed (one slot went to the repeated kind), the rest counted.
    expect(more.repeats).toBe(5000 - (MAX_IGNORED_ENTRIES - 1));
    expect(
      ignored.reduce((n, a) => n + 1 + (a.action === IGNORED_MORE ? (a.repeats ?? 0) - 1 : (a.repeats ?? 0)), 0),
    ).toBe(10_000);
  });

  it('returns a small result unchanged', () => {
    const full = maximalRun().result({ headline: 'h', summary: 's', followUps: [] });
    const small = { ...full, plan: { summary: 's', tickets: [] }, manifest: [], calls: [], gates: [], audit: [] };
    expect(recordsTooLarge(small)).toBe(false);
  });
});
