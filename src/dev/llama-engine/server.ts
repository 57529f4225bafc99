/**
 * A thin OpenAI-compatible HTTP front of our own over the real llama.cpp engine (engine.ts):
 * `POST /v1/chat/completions` (json_schema, json_object, tool calls under every tool_choice
 * (tool-calls.ts) and plain text, streamed (sse.ts) or not, usage from the engine's token meter, a default output cap,
 * 503 with retry-after when the engine is full, one log line per request), `GET /v1/models`
 * (with the GGUF's own metadata), and `POST /_engine/grammar` to compile a schema without
 * generating. Only the HTTP translation is ours; generation and grammar compilation are
 * llama.cpp's, so tests through it meet a real engine's behaviour.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObject, readBody, sendJson } from '../sim-llm/http-util';
import { errorBody, usageOf } from '../sim-llm/openai-format';
import { EngineBusyError, GrammarError, type EngineGrammar, type LlamaEngine } from './engine';
import { SseAnswer } from './sse';
import {
  callsSchemaOf,
  historyOf,
  parseToolCalls,
  toolGrammarOf,
  toolPlanOf,
  ToolRequestError,
  type ToolPlan,
} from './tool-calls';

/** The output cap of a request that sends no max_tokens (`--max-tokens`). */
export const DEFAULT_MAX_TOKENS = 512;

/** A running engine server. */
export interface LlamaServer {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

/** How the request asks for structured output, without tools. */
function formatOf(body: Record<string, unknown>): EngineGrammar {
  const format = isObject(body.response_format) ? body.response_format : {};
  if (format.type === 'json_schema' && isObject(format.json_schema))
    return { kind: 'json-schema', schema: format.json_schema.schema };
  if (format.type === 'json_object') return { kind: 'json' };
  return { kind: 'none' };
}

/** The grammar of the answer: tool calls (unless `tool_choice: "none"`) or the response format. */
async function grammarOf(
  engine: LlamaEngine,
  body: Record<string, unknown>,
  plan: ToolPlan | undefined,
): Promise<EngineGrammar> {
  const format = formatOf(body);
  if (!plan) return format;
  const calls = await engine.gbnfOf({ kind: 'json-schema', schema: callsSchemaOf(plan) });
  const answer = format.kind === 'none' ? undefined : await engine.gbnfOf(format);
  return { kind: 'gbnf', text: toolGrammarOf(calls!, plan, answer) };
}

/** The request's output cap: its max_completion_tokens or max_tokens, else the default. */
function maxTokensOf(body: Record<string, unknown>, fallback: number): number {
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (limit === undefined || limit === null) return fallback;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    throw new ToolRequestError(
      `'max_tokens' must be a whole number of at least 1, got ${JSON.stringify(limit)}.`,
      'max_tokens',
    );
  return limit;
}

/** Starts the HTTP server over an engine; `model` is the id it answers with. */
export async function startLlamaServer(opts: {
  engine: LlamaEngine;
  model: string;
  port?: number;
  /** The output cap of requests that send none (default DEFAULT_MAX_TOKENS). */
  defaultMaxTokens?: number;
  /** Where the per-request line goes (default stderr). */
  log?: (line: string) => void;
}): Promise<LlamaServer> {
  const { engine, model } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const meta = engine.info();
  let seq = 0;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    let text: string;
    try {
      text = await readBody(req);
    } catch {
      // readBody's only refusal besides a broken socket (whose answer goes nowhere): a body over its limit.
      return sendJson(res, 413, errorBody('The body is too large (at most 32 MiB).', 'invalid_request_error', null));
    }
    try {
      body = JSON.parse(text);
    } catch {
      return sendJson(res, 400, errorBody('The body must be JSON.', 'invalid_request_error', 'invalid_json'));
    }
    if (!isObject(body) || !Array.isArray(body.messages) || body.messages.length === 0)
      return sendJson(res, 400, errorBody("'messages' must be a non-empty array.", 'invalid_request_error', null));
    // One choice is all the engine generates: `n` > 1 answered with one would be a silent short answer.
    if (body.n !== undefined && body.n !== null && body.n !== 1)
      return sendJson(
        res,
        400,
        errorBody(
          `'n' must be 1 (this engine generates one choice), got ${JSON.stringify(body.n)}.`,
          'invalid_request_error',
          null,
          'n',
        ),
      );
    const started = Date.now();
    const fail = (status: number, message: string, type: string, param: string | null, headers = {}) => {
      log(`llama-engine: POST /v1/chat/completions model=${model} status=${status} ms=${Date.now() - started}`);
      sendJson(res, status, errorBody(message, type, null, param), headers);
    };
    let plan: ToolPlan | undefined;
    let maxTokens: number;
    let grammar: EngineGrammar;
    try {
      plan = toolPlanOf(body);
      maxTokens = maxTokensOf(body, opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS);
      grammar = await grammarOf(engine, body, plan);
    } catch (err) {
      if (err instanceof ToolRequestError) return fail(400, err.message, 'invalid_request_error', err.param);
      if (err instanceof GrammarError)
        return fail(
          400,
          `The ${plan ? "tools' parameter schemas" : 'JSON schema'} could not be turned into a grammar: ${err.message}`,
          'invalid_request_error',
          plan ? 'tools' : 'response_format',
        );
      throw err;
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const id = `chatcmpl-llama-${++seq}`;
    // Streamed: content as it is generated (a tool request's text only at its end, see sse.ts).
    const sse = body.stream === true ? new SseAnswer(res, id, model, !plan) : undefined;
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    let answer;
    try {
      answer = await engine.generate({
        history: historyOf(body.messages, plan),
        grammar,
        maxTokens,
        ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
        signal: abort.signal,
        ...(sse ? { onTextChunk: (t: string) => sse.text(t) } : {}),
      });
    } catch (err) {
      if (res.destroyed) {
        // The client went away (its sequence is freed): still one log line per request.
        log(
          `llama-engine: POST /v1/chat/completions model=${model} status=499 client_closed ms=${Date.now() - started}`,
        );
        return;
      }
      if (sse?.begun) {
        log(
          `llama-engine: POST /v1/chat/completions model=${model} status=500 stream=failed ms=${Date.now() - started}`,
        );
        return sse.fail(`The engine failed: ${(err as Error).message}`, 'server_error');
      }
      if (err instanceof EngineBusyError)
        return fail(503, err.message, 'server_error', null, { 'retry-after': String(err.retryAfterS) });
      if (err instanceof GrammarError)
        return fail(400, `The grammar could not be compiled: ${err.message}`, 'invalid_request_error', null);
      return fail(500, `The engine failed: ${(err as Error).message}`, 'server_error', null);
    }
    const calls = plan && !answer.truncated ? parseToolCalls(answer.text) : undefined;
    const message = calls
      ? { role: 'assistant', content: null, tool_calls: calls }
      : { role: 'assistant', content: answer.text };
    const finish = answer.truncated ? 'length' : calls ? 'tool_calls' : 'stop';
    const perSecond = answer.completionTokens / Math.max(0.001, answer.generationMs / 1000);
    log(
      `llama-engine: POST /v1/chat/completions model=${model} prompt_tokens=${answer.promptTokens} ` +
        `completion_tokens=${answer.completionTokens} tokens_per_s=${perSecond.toFixed(1)} finish=${finish} ` +
        `${sse ? 'stream=true ' : ''}ms=${Date.now() - started}`,
    );
    const usage = usageOf(answer.promptTokens, answer.completionTokens, 0);
    if (sse)
      return sse.end({
        ...(calls ? { toolCalls: calls } : plan ? { content: answer.text } : {}),
        finish,
        ...(includeUsage ? { usage: { ...usage } } : {}),
      });
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage,
    });
  }

  async function grammarCheck(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body: unknown = JSON.parse(await readBody(req));
    const schema = isObject(body) ? body.schema : undefined;
    try {
      sendJson(res, 200, { ok: true, ...(await engine.grammarFor(schema)) });
    } catch (err) {
      sendJson(res, 200, { ok: false, error: (err as Error).message });
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://engine').pathname.replace(/\/+$/, '');
    const done = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, errorBody((err as Error).message, 'server_error', null));
      });
    if (req.method === 'POST' && path === '/v1/chat/completions') return void done(chat(req, res));
    if (req.method === 'POST' && path === '/_engine/grammar') return void done(grammarCheck(req, res));
    if (req.method === 'GET' && path === '/v1/models')
      return sendJson(res, 200, {
        object: 'list',
        data: [
          {
            id: model,
            object: 'model',
            created: 0,
            owned_by: 'llama.cpp',
            meta: {
              ...(meta.name ? { name: meta.name } : {}),
              ...(meta.architecture ? { architecture: meta.architecture } : {}),
              ...(meta.sizeLabel ? { size_label: meta.sizeLabel } : {}),
              ...(meta.trainedContext ? { n_ctx_train: meta.trainedContext } : {}),
            },
          },
        ],
      });
    sendJson(
      res,
      404,
      errorBody(`Unknown route ${req.method ?? 'GET'} ${path}`, 'invalid_request_error', 'unknown_url'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
