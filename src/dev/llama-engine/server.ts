/**
 * A thin OpenAI-compatible HTTP front of our own over the real llama.cpp engine (engine.ts):
 * `POST /v1/chat/completions` (json_schema, json_object, forced tool and plain text, usage from
 * the engine's token meter), `GET /v1/models`, and `POST /_engine/grammar` to compile a schema
 * without generating. Only the HTTP translation is ours; generation and grammar compilation are
 * llama.cpp's, so tests through it meet a real engine's behaviour.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isObject, readBody, sendJson } from '../sim-llm/http-util';
import { errorBody, flattenContent, usageOf } from '../sim-llm/openai-format';
import { GrammarError, type EngineGrammar, type EngineTurn, type LlamaEngine } from './engine';

/** A running engine server. */
export interface LlamaServer {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

/** How the request asks for structured output. */
function grammarOf(body: Record<string, unknown>): { grammar: EngineGrammar; tool?: string } {
  const format = isObject(body.response_format) ? body.response_format : {};
  if (format.type === 'json_schema' && isObject(format.json_schema))
    return { grammar: { kind: 'json-schema', schema: format.json_schema.schema } };
  if (format.type === 'json_object') return { grammar: { kind: 'json' } };
  const tool: unknown = Array.isArray(body.tools) ? body.tools[0] : undefined;
  if (isObject(tool) && isObject(tool.function) && isObject(body.tool_choice)) {
    const name = typeof tool.function.name === 'string' ? tool.function.name : 'answer';
    return { grammar: { kind: 'json-schema', schema: tool.function.parameters }, tool: name };
  }
  return { grammar: { kind: 'none' } };
}

function historyOf(messages: unknown[]): EngineTurn[] {
  return messages.filter(isObject).map((m): EngineTurn => {
    const text = flattenContent(m.content);
    if (m.role === 'assistant') return { type: 'model', response: [text] };
    return { type: m.role === 'system' || m.role === 'developer' ? 'system' : 'user', text };
  });
}

/** Starts the HTTP server over an engine; `model` is the id it answers with. */
export async function startLlamaServer(opts: {
  engine: LlamaEngine;
  model: string;
  port?: number;
}): Promise<LlamaServer> {
  const { engine, model } = opts;
  let seq = 0;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, errorBody('The body must be JSON.', 'invalid_request_error', 'invalid_json'));
    }
    if (!isObject(body) || !Array.isArray(body.messages) || body.messages.length === 0)
      return sendJson(res, 400, errorBody("'messages' must be a non-empty array.", 'invalid_request_error', null));
    const { grammar, tool } = grammarOf(body);
    const limit = body.max_completion_tokens ?? body.max_tokens;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let answer;
    try {
      answer = await engine.generate({
        history: historyOf(body.messages),
        grammar,
        ...(typeof limit === 'number' ? { maxTokens: limit } : {}),
        ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
        signal: abort.signal,
      });
    } catch (err) {
      if (res.destroyed) return;
      if (err instanceof GrammarError)
        return sendJson(
          res,
          400,
          errorBody(
            `The JSON schema could not be turned into a grammar: ${err.message}`,
            'invalid_request_error',
            null,
            'response_format',
          ),
        );
      return sendJson(res, 500, errorBody(`The engine failed: ${(err as Error).message}`, 'server_error', null));
    }
    const id = `chatcmpl-llama-${++seq}`;
    const message = tool
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: `call_${id}`, type: 'function', function: { name: tool, arguments: answer.text } }],
        }
      : { role: 'assistant', content: answer.text };
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: answer.truncated ? 'length' : 'stop' }],
      usage: usageOf(answer.promptTokens, answer.completionTokens, 0),
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
        data: [{ id: model, object: 'model', created: 0, owned_by: 'llama.cpp' }],
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
