/**
 * Every model call streams: against the simulated LLM over real HTTP, a server that stalls
 * mid-answer is detected by the idle timeout within seconds (classified and billed), a slow but
 * steady stream that lasts longer than the idle timeout completes, usage comes from the final
 * chunk or is counted when the server sends none, progress is reported while tokens arrive, and a
 * server that refuses streaming (or just `stream_options`) is adapted to once and remembered.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ProviderMemory } from '../../src/activities/llm/adaptations';
import { StructuredLlm } from '../../src/activities/llm/structured';
import type { LlmProgress } from '../../src/activities/llm/stream-call';
import { ToolLlm } from '../../src/activities/llm/tool-turn';
import { startSimLlm } from '../../src/dev/sim-llm';
import type { SimLlm } from '../../src/dev/sim-llm/types';
import { FailureType } from '../../src/shared/errors';
import type { LlmCallRecord } from '../../src/shared/types';

const Answer = z.object({
  summary: z.string().min(1),
  files: z.array(z.object({ path: z.string(), content: z.string() })),
});
const prompt = {
  system: 'You are the writer. Write clear copy.',
  user: '# Ticket T1: Write the README\n\nDescribe the project in a short README.md.',
};

let sim: SimLlm;
beforeAll(async () => {
  sim = await startSimLlm();
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.clearRequests();
});

function llm(idleTimeoutMs: number, memory = new ProviderMemory(), baseUrl = sim.baseUrl) {
  return new StructuredLlm({ baseUrl, apiKey: 'k', timeoutMs: 30_000, idleTimeoutMs, memory });
}

const ask = (l: StructuredLlm, onCall?: (r: LlmCallRecord) => void, onProgress?: (p: LlmProgress) => void) =>
  l.call({
    model: 'sim-model',
    prompt,
    schema: Answer,
    schemaName: 'work_result',
    label: 'writer T1',
    ...(onCall ? { onCall } : {}),
    ...(onProgress ? { onProgress } : {}),
  });

describe('streamed LLM calls against the simulated server', () => {
  it('streams with include_usage and takes the usage of the final chunk', async () => {
    const res = await ask(llm(5_000));
    expect(res.data.summary.length).toBeGreaterThan(0);
    const [req] = sim.requests();
    expect(req!.status).toBe(200);
    expect(req!.stream).toBe(true);
    // The provider's own count, not an estimate.
    expect(res.calls[0]).toMatchObject({
      promptTokens: req!.usage!.prompt_tokens,
      completionTokens: req!.usage!.completion_tokens,
    });
    expect(res.calls[0]!.estimated).toBeUndefined();
  });

  it('detects a stream that stalls mid-answer within the idle timeout, says so, and bills it', async () => {
    sim.injectFault({ kind: 'stall' });
    const calls: LlmCallRecord[] = [];
    const t0 = Date.now();
    const err = await ask(llm(1_000), (r) => calls.push(r)).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(FailureType.LlmUnavailable);
    expect(failure.nonRetryable).toBeFalsy();
    expect(failure.message).toMatch(/the LLM server sent no token for 1 s after \d+ token\(s\) of its answer/);
    expect(took).toBeLessThan(5_000);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ error: FailureType.LlmUnavailable, estimated: true });
    expect(calls[0]!.promptTokens).toBeGreaterThan(0);
    expect(calls[0]!.completionTokens).toBeGreaterThan(0);
    // The client went away: the server saw the request end unanswered.
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.requests()[0]!.status).toBe(499);
  });

  it('lets a slow but steady stream run longer than the idle timeout, reporting progress as tokens arrive', async () => {
    sim.injectFault({ kind: 'slow-stream', latencyMs: 3_000 });
    const progress: LlmProgress[] = [];
    const t0 = Date.now();
    const res = await ask(llm(1_000), undefined, (p) => progress.push(p));
    expect(Date.now() - t0).toBeGreaterThan(2_500);
    expect(res.data.summary.length).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const last = progress[progress.length - 1]!;
    expect(last.tokens).toBe(res.calls[0]!.completionTokens);
    expect(last.tokensPerSecond).toBeGreaterThan(0);
    expect(Date.parse(last.startedAt)).toBeGreaterThanOrEqual(t0 - 1);
    const counts = progress.map((p) => p.tokens);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
  });

  it('counts the tokens when the server streams no usage', async () => {
    const quiet = await startSimLlm({ quirks: ['no-usage'] });
    try {
      const res = await ask(llm(5_000, new ProviderMemory(), quiet.baseUrl));
      expect(res.calls[0]!.estimated).toBe(true);
      expect(res.calls[0]!.completionTokens).toBeGreaterThan(0);
      expect(res.calls[0]!.promptTokens).toBeGreaterThan(0);
    } finally {
      await quiet.close();
    }
  });

  it('reads the whole answer of a server that ignores "stream" and answers with plain JSON', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 1,
            model: 'plain',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: '{"summary":"done","files":[]}' },
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await ask(llm(5_000, new ProviderMemory(), `http://127.0.0.1:${port}/v1`));
      expect(res.data.summary).toBe('done');
      expect(res.calls[0]).toMatchObject({ model: 'plain', promptTokens: 7, completionTokens: 3 });
    } finally {
      server.close();
    }
  });

  it.each([
    ['stream-refused', 'off'],
    ['stream-options-refused', 'no-usage'],
  ] as const)('adapts to a server with quirk %s once and remembers it', async (quirk, learned) => {
    const odd = await startSimLlm({ quirks: [quirk] });
    const memory = new ProviderMemory();
    try {
      const l = llm(5_000, memory, odd.baseUrl);
      const first = await ask(l);
      expect(first.calls.map((c) => c.error ?? 'ok')).toEqual([FailureType.LlmAdapted, 'ok']);
      expect(memory.get(odd.baseUrl, 'sim-model').stream).toBe(learned);
      const second = await ask(l);
      expect(second.calls.map((c) => c.error ?? 'ok')).toEqual(['ok']);
      expect(odd.requests().map((r) => r.status)).toEqual([400, 200, 200]);
    } finally {
      await odd.close();
    }
  });

  it('adapts an agent turn to a server that refuses streaming, and bills a stalled turn', async () => {
    const odd = await startSimLlm({ quirks: ['stream-refused'] });
    const memory = new ProviderMemory();
    const records: LlmCallRecord[] = [];
    const turn = (l: ToolLlm) =>
      l.turn({
        model: 'sim-model',
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        tools: [],
        schema: Answer,
        schemaName: 'work_result',
        label: 'writer T1 turn 1',
        meta: { kind: 'work', role: 'writer', ticketId: 'T1', attempt: 1 },
        onCall: (r) => records.push(r),
      });
    try {
      const res = await turn(new ToolLlm({ baseUrl: odd.baseUrl, apiKey: 'k', timeoutMs: 30_000, memory }));
      expect(res.final?.summary.length).toBeGreaterThan(0);
      expect(records.map((r) => r.error ?? 'ok')).toEqual([FailureType.LlmAdapted, 'ok']);
      expect(memory.get(odd.baseUrl, 'sim-model').stream).toBe('off');
    } finally {
      await odd.close();
    }
    records.length = 0;
    sim.injectFault({ kind: 'stall' });
    const stalled = turn(new ToolLlm({ baseUrl: sim.baseUrl, apiKey: 'k', timeoutMs: 30_000, idleTimeoutMs: 1_000 }));
    await expect(stalled).rejects.toMatchObject({
      type: FailureType.LlmUnavailable,
      message: expect.stringMatching(/sent no token for 1 s/),
    });
    expect(records).toEqual([expect.objectContaining({ error: FailureType.LlmUnavailable, estimated: true })]);
  });

  it('streams an agent turn with tool calls and keeps refusals, truncation and repair as before', async () => {
    sim.injectFault({
      kind: 'tool-calls',
      toolCalls: [
        { name: 'read_file', arguments: '{"path":"README.md"}' },
        { name: 'list_files', arguments: '{"dir":"."}' },
      ],
    });
    const tool = new ToolLlm({ baseUrl: sim.baseUrl, apiKey: 'k', timeoutMs: 30_000, idleTimeoutMs: 5_000 });
    const turn = await tool.turn({
      model: 'sim-model',
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      tools: [
        { type: 'function', function: { name: 'read_file', description: 'read', parameters: { type: 'object' } } },
        { type: 'function', function: { name: 'list_files', description: 'list', parameters: { type: 'object' } } },
      ],
      schema: Answer,
      schemaName: 'work_result',
      label: 'writer T1 turn 1',
      meta: { kind: 'work', role: 'writer', ticketId: 'T1', attempt: 1 },
    });
    expect(turn.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['read_file', '{"path":"README.md"}'],
      ['list_files', '{"dir":"."}'],
    ]);
    expect(turn.toolCalls.every((c) => c.id.length > 0)).toBe(true);

    sim.injectFault({ kind: 'refusal' });
    await expect(ask(llm(5_000))).rejects.toMatchObject({ type: FailureType.LlmRefused, nonRetryable: true });
    sim.injectFault({ kind: 'truncated' });
    await expect(ask(llm(5_000))).rejects.toMatchObject({ type: FailureType.LlmTruncated });
    sim.injectFault({ kind: 'malformed-json' });
    const repaired = await ask(llm(5_000));
    expect(repaired.calls.map((c) => c.error ?? 'ok')).toEqual([FailureType.LlmBadOutput, 'ok']);
  });
});
