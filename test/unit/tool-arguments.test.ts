/**
 * The one strict reading of tool-call arguments and what an approver is shown: any JSON object
 * reads back as itself and its canonical text means the same; a key given twice, at any depth and
 * however it is escaped, is refused; the approval view is exactly the start of what runs, and the
 * marker counts the rest in bytes.
 */
import fc from 'fast-check';
import { approvalView, canonicalArguments, readToolArguments } from '../../src/activities/tools/tool-arguments';
import { vetTurnCalls } from '../../src/activities/agent/turn-calls';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { toolSpecs } from '../../src/activities/tools/tool-specs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { foldOldRecords, MAX_TOOL_CALL_RECORDS, type ToolCallRecord } from '../../src/shared/tools';

const objects = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 });

describe('readToolArguments', () => {
  it('reads every JSON object back as itself; its canonical text parses to the same value', () => {
    fc.assert(
      fc.property(objects, fc.array(fc.string(), { maxLength: 3 }), (value, params) => {
        const text = JSON.stringify(value);
        const read = readToolArguments(text);
        expect(read).toEqual({ ok: true, value: JSON.parse(text) });
        const canonical = canonicalArguments(read.ok ? read.value : {}, params);
        expect(JSON.parse(canonical)).toEqual(JSON.parse(text));
        expect(readToolArguments(canonical).ok).toBe(true);
      }),
    );
  });

  it('refuses a key given twice at any depth, whatever comes between and however the key is escaped', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.jsonValue({ maxDepth: 2 }), fc.nat(3), (key, between, depth) => {
        const k = JSON.stringify(key);
        const escaped = `"${[...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
        let doc = `{${k}:1,"between":${JSON.stringify(between)},${escaped}:2}`;
        for (let i = 0; i < depth; i++) doc = `{"level${i}":[${doc}]}`;
        const read = readToolArguments(doc);
        expect(read.ok).toBe(false);
        if (!read.ok) expect(read.error).toMatch(/twice; send each key once/);
      }),
    );
  });

  it('says what is wrong with each wrong shape', () => {
    const error = (raw: string) => {
      const r = readToolArguments(raw);
      return r.ok ? 'ok' : r.error;
    };
    expect(error('')).toBe('ok');
    expect(error('[1]')).toMatch(/^the arguments must be a JSON object, not an array/);
    expect(error('null')).toMatch(/not null/);
    expect(error('7')).toMatch(/not a number/);
    expect(error('"x"')).toMatch(/not a string/);
    expect(error('{"a":')).toMatch(/^the arguments are not valid JSON \(/);
    expect(error(`{"a":${'['.repeat(65)}${']'.repeat(65)}}`)).toMatch(/nest deeper than 64 levels/);
    expect(error(`{"a":${'['.repeat(62)}${']'.repeat(62)}}`)).toBe('ok');
    expect(error(JSON.stringify({ a: 'x'.repeat(1_048_576) }))).toMatch(
      /^the arguments are 1048584 bytes; at most 1048576/,
    );
    // Brackets and quotes inside strings are text, not structure.
    expect(error('{"a":"{\\"a\\":1,\\"a\\":2}","b":"[[[["}')).toBe('ok');
  });
});

describe('approvalView', () => {
  it('is the start of exactly what runs, invisible characters escaped, with the bytes left out counted', () => {
    fc.assert(
      fc.property(objects, fc.integer({ min: 10, max: 300 }), (value, max) => {
        const canonical = canonicalArguments(value, []);
        const view = approvalView(canonical, max);
        const m = /^([\s\S]*) \[truncated, (\d+) more bytes\]$/.exec(view);
        const shown = (m ? m[1]! : view).replace(/\\u(202e|200b|2028|2029|feff|00ad)/g, (_, h: string) =>
          String.fromCharCode(parseInt(h, 16)),
        );
        if (!m) expect(view.length).toBeLessThanOrEqual(max);
        expect(canonical.startsWith(shown)).toBe(true);
        expect(Buffer.byteLength(shown) + Number(m?.[2] ?? 0)).toBe(Buffer.byteLength(canonical));
      }),
    );
  });

  it("puts the tool's own parameters first, so padding before them cannot hide them", () => {
    const canonical = canonicalArguments({ 0: 'x'.repeat(5000), pad: 'y', command: 'node -e 1' }, ['command']);
    expect(approvalView(canonical, 100)).toMatch(/^\{"command":"node -e 1","0":"xxx/);
    expect(approvalView('{"c":"a\u202eb"}')).toBe('{"c":"a\\u202eb"}');
  });
});

describe('vetTurnCalls', () => {
  const store = new FsArtifactStore(mkdtempSync(path.join(os.tmpdir(), 'maestro-vet-')));
  const ctx = {
    ticketId: 'T1',
    role: 'coder',
    turn: 2,
    attempt: 1,
    activityAttempt: 1,
    settings: { tools: ['read_file', 'write_file'] as ('read_file' | 'write_file')[], maxToolCallsPerTurn: 4 },
    offered: toolSpecs(['read_file', 'write_file']),
    store,
  };

  it('keeps at most the limit, answers every other call once, and carries big arguments by reference', async () => {
    const calls = [
      { id: 'a', name: 'read_file', arguments: '{"path":"x.md"}' },
      { id: 'a', name: 'read_file', arguments: '{"path":"y.md"}' },
      { id: 'c', name: 'write_file', arguments: JSON.stringify({ content: 'z'.repeat(10_000), path: 'big.md' }) },
      { id: 'call_maestro_2_2', name: 'rm', arguments: '{}' },
      ...Array.from({ length: 50 }, (_, i) => ({ id: `o${i}`, name: 'read_file', arguments: '{"path":"x.md"}' })),
    ];
    const v = await vetTurnCalls(calls, ctx);
    expect(v.accepted.map((c) => [c.id, c.label])).toEqual([
      ['a', 'read_file x.md'],
      ['c', 'write_file big.md'],
    ]);
    const big = v.accepted[1]!;
    expect(big.arguments).toBe('');
    expect((await store.read(big.argumentsRef!)).toString()).toBe(
      JSON.stringify({ path: 'big.md', content: 'z'.repeat(10_000) }),
    );
    expect(big.view).toMatch(/^\{"path":"big\.md","content":"zzz.* \[truncated, \d+ more bytes\]$/);
    // One stored call per call the model made, ids unique, so the provider gets one answer for each.
    expect(v.stored).toHaveLength(calls.length);
    expect(new Set(v.stored.map((c) => c.id)).size).toBe(calls.length);
    expect(v.answers).toHaveLength(calls.length - 2);
    expect(v.records.map((r) => r.summary)).toEqual([
      'read_file y.md',
      'rm',
      '50 tool calls refused: over the limit of 4 per turn',
    ]);
    expect(JSON.stringify(v).length).toBeLessThan(50_000);
  });
});

describe('foldOldRecords', () => {
  const rec = (i: number, failed: boolean): ToolCallRecord => ({
    tool: 'read_file',
    role: 'coder',
    ticketId: 'T1',
    turn: 1 + Math.floor(i / 64),
    summary: `read_file f${i}.md`,
    startedAt: '2026-12-06T00:00:00.000Z',
    durationMs: 1,
    status: failed ? 'error' : 'ok',
    bytes: 10,
    attempt: 1,
  });

  it("keeps an attempt's records bounded, the latest listed and the older ones counted", () => {
    // 200 turns of 64 calls each: 12,800 records would be ~3 MB in the loop's result.
    let kept: ToolCallRecord[] = [];
    for (let i = 0; i < 12_800; i++) {
      kept.push(rec(i, i % 10 === 0));
      if (i % 64 === 63) kept = foldOldRecords(kept);
    }
    expect(kept).toHaveLength(MAX_TOOL_CALL_RECORDS);
    expect(kept[0]).toMatchObject({ tool: '(earlier calls)', status: 'error', bytes: 10 * (12_800 - 299) });
    expect(kept[0]!.summary).toBe(
      `${12_800 - 299} earlier tool calls not listed (${Math.ceil((12_800 - 299) / 10)} failed)`,
    );
    expect(kept.at(-1)!.summary).toBe('read_file f12799.md');
    expect(JSON.stringify(kept).length).toBeLessThan(100_000);
    expect(foldOldRecords(kept.slice(1))).toEqual(kept.slice(1));
  });
});
