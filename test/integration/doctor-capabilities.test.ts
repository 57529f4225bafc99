/**
 * The doctor's tool-call and speed probes against a hostile endpoint (a real HTTP server that
 * answers whatever each test scripts): wrong-shaped tool calls, ESC bytes and megabytes of text,
 * nonsense usage and a refused `tool_choice: "required"` never crash the doctor, never reach the
 * terminal raw, never make a bill of NaN, and an answer without a call is never taken for one.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { speedCheck, toolCallCheck, type ProbeSpend } from '../../src/client/doctor/capability-checks';
import { loadConfig } from '../../src/config';

type Reply = { status: number; body: unknown };
let server: Server;
let baseUrl: string;
let replies: ((body: Record<string, unknown>) => Reply)[] = [];
const seen: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push(body);
      const reply = (replies.shift() ?? (() => ({ status: 500, body: { error: { message: 'no reply scripted' } } })))(
        body,
      );
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  replies = [];
  seen.length = 0;
});

const settings = () => ({
  baseUrl,
  apiKey: 'k',
  timeoutMs: 10_000,
  prices: { m: { input: 1, cachedInput: 1, output: 2 } },
});
const spent = (): ProbeSpend => ({ calls: 0, promptTokens: 0, completionTokens: 0, usd: 0, noUsage: false });
const answer = (message: unknown, usage: unknown = { prompt_tokens: 10, completion_tokens: 5 }) => ({
  status: 200,
  body: { id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message }], usage },
});
const ESC = '\u001b[31mred\u001b]0;pwned\u0007\u202e';

describe("doctor's tool-call probe on a hostile endpoint", () => {
  it('text with ESC bytes, and megabytes of it: fails as "answered with text", one clipped clean line', async () => {
    replies.push(() => answer({ role: 'assistant', content: `${ESC}${'x'.repeat(2_000_000)}` }));
    const s = spent();
    const check = await toolCallCheck(settings(), 'm', ['coder'], s);
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(/^asked to call a tool, the model answered with text \("\[31mred/);
    expect(check.detail).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(check.detail.length).toBeLessThan(300);
    expect(seen[0]).toMatchObject({ tool_choice: 'required', max_tokens: 64 });
    expect(s).toEqual({ calls: 1, promptTokens: 10, completionTokens: 5, usd: 0.00002, noUsage: false });
  });

  it('wrong-shaped tool calls: no crash; a call without a function is no call, odd arguments are a warning', async () => {
    replies.push(() => answer({ role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function' }] }));
    replies.push(() => answer({ role: 'assistant', content: null, tool_calls: 'report_status' }));
    replies.push(() =>
      answer({ role: 'assistant', tool_calls: [{ function: { name: 'report_status', arguments: { status: 'ok' } } }] }),
    );
    replies.push(() =>
      answer({ role: 'assistant', tool_calls: [{ function: { name: `rm${ESC}`, arguments: '{"a"' } }] }),
    );
    replies.push(() => ({ status: 200, body: { choices: 'none' } }));
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await toolCallCheck(settings(), 'm', ['coder', 'tester'], spent()));
    expect(results.map((r) => r.status)).toEqual(['fail', 'fail', 'ok', 'warn', 'fail']);
    expect(results[3]!.detail).toMatch(/^the model called a tool, but not as asked: rm/);
    expect(results[3]!.detail).not.toMatch(/[\u0000-\u001f\u202e]/);
    expect(results[4]!.detail).toContain('answered with text (nothing)');
  });

  it('a server that refuses tool_choice "required" is asked with "auto" (never a named tool), and both calls are billed', async () => {
    replies.push(() => ({
      status: 400,
      body: {
        error: { message: "Invalid value for 'tool_choice': only auto is supported", type: 'invalid_request_error' },
      },
    }));
    replies.push(() =>
      answer({
        role: 'assistant',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'report_status', arguments: '{"status":"ok"}' } }],
      }),
    );
    const s = spent();
    const check = await toolCallCheck(settings(), 'm', ['coder'], s);
    expect(check).toMatchObject({ status: 'ok' });
    expect(seen.map((b) => b.tool_choice)).toEqual(['required', 'auto']);
    expect(s.calls).toBe(2);
  });

  it('a refusal of tools themselves fails with what the endpoint said, cleaned', async () => {
    replies.push(() => ({ status: 400, body: { error: { message: `tools are not supported ${ESC}` } } }));
    const check = await toolCallCheck(settings(), 'm', ['coder'], spent());
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(
      /^the endpoint refused a request with tools \(needed by coder\): 400 tools are not supported/,
    );
    expect(check.detail).not.toMatch(/[\u0000-\u001f\u202e]/);
  });
});

describe('a reasoning model that refuses "max_tokens"', () => {
  const refusal = (): Reply => ({
    status: 400,
    body: {
      error: {
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'unsupported_parameter',
      },
    },
  });
  it('both probes ask again with "max_completion_tokens", as runs do, and bill the refused call', async () => {
    const call = { id: 'c', type: 'function', function: { name: 'report_status', arguments: '{"status":"ok"}' } };
    replies.push(refusal, () => answer({ role: 'assistant', tool_calls: [call] }));
    replies.push(refusal, () => answer({ role: 'assistant', content: '1, 2, 3' }));
    const s = spent();
    expect(await toolCallCheck(settings(), 'm', ['coder'], s)).toMatchObject({ status: 'ok' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-speed-'));
    const speed = await speedCheck(settings(), loadConfig({ MAESTRO_HOME: dir }, dir), 'm', ['boss'], s);
    expect(speed).toMatchObject({ status: 'ok' });
    expect(seen.map((b) => ('max_tokens' in b ? 'max_tokens' : 'max_completion_tokens'))).toEqual([
      'max_tokens',
      'max_completion_tokens',
      'max_tokens',
      'max_completion_tokens',
    ]);
    expect(s.calls).toBe(4);
  });
});

describe("doctor's speed probe on a hostile endpoint", () => {
  it('nonsense usage: not measured (a warning), nothing billed as NaN', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-speed-'));
    const config = loadConfig({ MAESTRO_HOME: dir }, dir);
    for (const usage of [{ prompt_tokens: 'ten', completion_tokens: -3 }, null, { completion_tokens: 1e400 }]) {
      replies.push(() => answer({ role: 'assistant', content: '1, 2, 3' }, usage));
      const s = spent();
      const check = await speedCheck(settings(), config, 'm', ['boss'], s);
      expect(check).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('could not be measured') as string,
      });
      expect(check.tokensPerSecond).toBeUndefined();
      expect(s).toMatchObject({ calls: 1, promptTokens: 0, completionTokens: 0, usd: 0, noUsage: true });
    }
  });
});

describe("doctor's probes on an endpoint that claims absurd token counts", () => {
  it('counts above what one call can use (9e15) are nonsense: not billed, not a speed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-doctor-absurd-'));
    const config = loadConfig({ MAESTRO_HOME: dir }, dir);
    replies.push(() =>
      answer({ role: 'assistant', content: '1, 2, 3' }, { prompt_tokens: 9e15, completion_tokens: 9e15 }),
    );
    const s = spent();
    const check = await speedCheck(settings(), config, 'm', ['boss'], s);
    expect(check.tokensPerSecond).toBeUndefined();
    expect(check.status).toBe('warn');
    expect(s).toMatchObject({ calls: 1, promptTokens: 0, completionTokens: 0, usd: 0, noUsage: true });
  });
});
