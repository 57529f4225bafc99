/**
 * A hostile LLM server against the streamed call path (StructuredLlm and ToolLlm over real HTTP):
 * SSE garbage, wrong-shaped chunks, absurd tool-call indexes, endless keep-alives, nonsense usage,
 * an error event mid-stream, a JSON body labelled as an event stream. A call must end (never hang),
 * fail when the answer is no answer (never succeed), bill a finite, non-negative amount, and leave
 * no raw control bytes in what it logs or throws.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { ToolLlm } from '../../src/activities/llm/tool-turn';
import type { LlmCallRecord } from '../../src/shared/types';

const Answer = z.object({ summary: z.string().min(1) });
const prompt = { system: 'You are the writer.', user: '# Ticket T1: Write the README' };

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
// No keep-alive: a request never lands on a socket an earlier test's server dropped.
const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' });

function structured(timeoutMs = 10_000, idleTimeoutMs = 2_000) {
  return new StructuredLlm({ baseUrl, apiKey: 'k', timeoutMs, idleTimeoutMs });
}
async function ask(l = structured()) {
  const records: LlmCallRecord[] = [];
  const t0 = Date.now();
  const out = await l
    .call({
      model: 'm',
      prompt,
      schema: Answer,
      schemaName: 'work_result',
      label: 'writer T1',
      onCall: (r) => records.push(r),
    })
    .then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
  return { out, records, took: Date.now() - t0 };
}
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
function honestBill(records: LlmCallRecord[]) {
  for (const r of records) {
    for (const k of ['promptTokens', 'completionTokens', 'costUsd'] as const) {
      const v = (r as unknown as Record<string, unknown>)[k];
      if (v !== undefined) {
        expect(typeof v).toBe('number');
        expect(Number.isFinite(v)).toBe(true);
        expect(v as number).toBeGreaterThanOrEqual(0);
      }
    }
  }
}

describe('a hostile LLM server against streamed calls', () => {
  it('a non-JSON data line with ESC/OSC bytes: a classified failure, no raw control bytes logged or thrown', async () => {
    const logged: string[] = [];
    const spies = (['error', 'warn', 'log'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(' '))),
    );
    handler = (_req, res) => {
      sse(res);
      res.write(chunk({ content: '{"summ' }));
      res.end(`data: \u001b]0;pwned\u0007\u001b[2Jnot json\n\n`);
    };
    try {
      const { out, records } = await ask();
      expect(out.ok).toBe(false);
      if (!out.ok) {
        expect(out.e).toBeInstanceOf(ApplicationFailure);
        expect((out.e as Error).message).not.toMatch(CONTROL);
      }
      expect(records.length).toBeGreaterThan(0);
      honestBill(records);
      for (const line of logged) expect(line).not.toMatch(CONTROL);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });

  it('an error event mid-stream with a 1 MB control-laden message: retryable failure, message bounded and clean', async () => {
    handler = (_req, res) => {
      sse(res);
      res.write(chunk({ content: '{"summary":' }));
      res.end(`data: ${JSON.stringify({ error: { message: '\u001b[31mboom\u0007' + 'x'.repeat(1_000_000) } })}\n\n`);
    };
    const { out, records } = await ask();
    expect(out.ok).toBe(false);
    if (!out.ok) {
      const f = out.e as ApplicationFailure;
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f.nonRetryable).toBeFalsy();
      expect(f.message).not.toMatch(CONTROL);
      expect(f.message.length).toBeLessThan(10_000);
    }
    honestBill(records);
  });

  it('a 200 event-stream whose body is a JSON completion (no data lines) is no answer, not a success', async () => {
    handler = (_req, res) => {
      sse(res);
      res.end(JSON.stringify({ choices: [{ index: 0, message: { content: '{"summary":"x"}' } }] }));
    };
    const { out, records } = await ask();
    expect(out.ok).toBe(false);
    honestBill(records);
  });

  it('wrong-shaped chunks (choices not an array, strings, nulls) and a stream without [DONE] end as a failure', async () => {
    handler = (_req, res) => {
      sse(res);
      res.write('data: "hello"\n\n');
      res.write('data: null\n\n');
      res.write('data: {"choices":{"0":{"delta":{"content":"x"}}}}\n\n');
      res.write('data: {"choices":[null,7,{"index":"0"}]}\n\n');
      res.end(chunk({ content: '{"summary":"hal' }));
    };
    const { out, records } = await ask();
    expect(out.ok).toBe(false);
    honestBill(records);
  });

  it('endless keep-alive empty deltas and comments: the total timeout ends the call, billed', async () => {
    let timer: NodeJS.Timeout | undefined;
    handler = (_req, res) => {
      sse(res);
      timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(': keep-alive\n\n');
        res.write(chunk({}));
      }, 100);
      res.on('close', () => clearInterval(timer));
    };
    try {
      const { out, records, took } = await ask(structured(2_000, 500));
      expect(out.ok).toBe(false);
      expect(took).toBeLessThan(8_000);
      if (!out.ok) expect((out.e as Error).message).toMatch(/MAESTRO_LLM_TIMEOUT_MS|2000 ms/);
      expect(records.length).toBeGreaterThan(0);
      honestBill(records);
    } finally {
      clearInterval(timer);
    }
  }, 20_000);

  it('usage sent twice, negative, 1e300 and as strings: the bill stays finite and non-negative', async () => {
    for (const usage of [
      { prompt_tokens: -5, completion_tokens: -1 },
      { prompt_tokens: 1e300, completion_tokens: 1e300, prompt_tokens_details: { cached_tokens: -3 } },
      { prompt_tokens: 'NaN', completion_tokens: 'Infinity' },
    ]) {
      handler = (_req, res) => {
        sse(res);
        res.write(chunk({ content: '{"summary":"done"}' }, 'stop'));
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      const { out, records } = await ask();
      expect(out.ok).toBe(true);
      honestBill(records);
    }
  });

  it('a thousand tool calls with hostile indexes and 100,000 tiny argument deltas: the turn ends, bounded', async () => {
    handler = (_req, res) => {
      sse(res);
      const calls = [];
      for (let i = 0; i < 1000; i++)
        calls.push({ index: i, id: `c${i}`, type: 'function', function: { name: 'read_file', arguments: '{}' } });
      res.write(chunk({ tool_calls: calls }));
      res.write(chunk({ tool_calls: [{ index: 1e9, function: { name: 'evil', arguments: '{}' } }] }));
      res.write(chunk({ tool_calls: [{ index: -1, function: { name: 'neg', arguments: '{}' } }] }));
      res.write(chunk({ tool_calls: [{ index: '__proto__', function: { name: 'proto', arguments: '{}' } }] }));
      let big = '';
      for (let i = 0; i < 100_000; i++) big += chunk({ tool_calls: [{ index: 0, function: { arguments: 'a' } }] });
      res.write(big);
      res.write(chunk({}, 'tool_calls'));
      res.end('data: [DONE]\n\n');
    };
    const records: LlmCallRecord[] = [];
    const tool = new ToolLlm({ baseUrl, apiKey: 'k', timeoutMs: 30_000, idleTimeoutMs: 5_000 });
    const t0 = Date.now();
    const turn = await tool.turn({
      model: 'm',
      messages: [{ role: 'user', content: 'go' }],
      tools: [{ type: 'function', function: { name: 'read_file', description: 'r', parameters: { type: 'object' } } }],
      schema: Answer,
      schemaName: 'work_result',
      label: 'writer T1 turn 1',
      meta: { kind: 'work', role: 'writer', ticketId: 'T1', attempt: 1 },
      onCall: (r) => records.push(r),
    });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(turn.toolCalls.length).toBeLessThanOrEqual(1001);
    expect(turn.toolCalls.map((c) => c.name)).not.toContain('evil');
    expect(({} as Record<string, unknown>).name).toBeUndefined();
    honestBill(records);
  }, 30_000);

  it.each([
    ['drops the connection', (res: ServerResponse) => res.destroy()],
    [
      'sends an error event',
      (res: ServerResponse) => res.end(`data: ${JSON.stringify({ error: { message: 'overloaded' } })}\n\n`),
    ],
  ])(
    'a stream that %s after 50 tokens: the failed call is billed its prompt and the tokens it streamed',
    async (_what, end) => {
      handler = (_req, res) => {
        sse(res);
        let body = chunk({ content: '{"summary":"' });
        for (let i = 0; i < 49; i++) body += chunk({ content: 'word ' });
        // Ended only once the 50 chunks are on the wire (a destroy drops unflushed writes).
        res.write(body, () => setTimeout(() => end(res), 100));
      };
      const { out, records } = await ask();
      expect(out.ok).toBe(false);
      expect(records.length).toBeGreaterThan(0);
      expect(records[0]).toMatchObject({ estimated: true });
      expect(records[0]!.promptTokens).toBeGreaterThan(0);
      expect(records[0]!.completionTokens).toBeGreaterThanOrEqual(50);
      honestBill(records);
    },
  );
});
