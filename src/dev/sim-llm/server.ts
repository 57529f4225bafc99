/**
 * The simulated OpenAI-compatible LLM server over real HTTP (node:http): chat completions,
 * model listing, admin endpoints for the request log and fault injection, and a close() that
 * also ends hung requests. Lets Maestro run offline and tests observe what agents were sent.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname } from 'node:path';
import { agentStep, isAgentRequest, scriptedToolCalls, type SimToolCall } from './agent';
import { breakAgainstSchema, SimContent } from './content';
import { cliAgentStep } from './cli-agent';
import { chatRefusal, isAuthorized, unauthorizedBody } from './access';
import { handleAdmin } from './admin-routes';
import { FaultQueue } from './faults';
import { isObject, readBody, sendJson as send } from './http-util';
import { completionBody, errorBody, flattenMessages, promptOf, tokensOf, usageOf } from './openai-format';
import { PromptCache } from './prompt-cache';
import { ticketIdOf } from './prompt-parse';
import { quirkRefusal, requestFormat, shapeAnswer, withoutIgnoredTools } from './quirks';
import { chunksOf, sendStream } from './stream';
import { SIM_MODEL, type SimLlm, type SimLlmOptions, type SimRequestRecord } from './types';

/** Starts the simulated LLM server; resolves once it listens. */
export async function startSimLlm(opts: SimLlmOptions = {}): Promise<SimLlm> {
  const host = opts.host ?? '127.0.0.1';
  const content = new SimContent();
  const faults = new FaultQueue();
  const promptCache = new PromptCache();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const records: SimRequestRecord[] = [];
  const quirks = opts.quirks ?? [];
  let seq = 0;
  if (opts.logFile) mkdirSync(dirname(opts.logFile), { recursive: true });

  const sleep = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, ms);
          timers.add(t);
        });

  const authorized = (req: IncomingMessage) => isAuthorized(req, opts.requireApiKey);

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const rec: SimRequestRecord = {
      seq: ++seq,
      at: new Date(started).toISOString(),
      model: '',
      schemaName: '',
      messages: [],
      status: 0,
      durationMs: 0,
    };
    records.push(rec);
    if (opts.maxRecords !== undefined && records.length > opts.maxRecords) records.shift();
    let finished = false;
    const finish = (status: number) => {
      if (finished) return;
      finished = true;
      rec.status = status;
      rec.durationMs = Date.now() - started;
      if (opts.logFile) appendFileSync(opts.logFile, `${JSON.stringify(rec)}\n`);
    };
    res.on('close', () => finish(res.writableFinished ? res.statusCode : 499));
    const reply = async (status: number, body: unknown, headers: Record<string, string> = {}, extraDelay = 0) => {
      await sleep((opts.latencyMs ?? 0) + extraDelay);
      if (res.destroyed) return finish(499);
      send(res, status, body, { 'x-request-id': `req_sim_${rec.seq}`, ...headers });
      finish(status);
    };

    const raw = await readBody(req);
    let body: unknown;
    let parseError: string | undefined;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      parseError = (err as Error).message;
    }
    const b = isObject(body) ? body : {};
    withoutIgnoredTools(b, quirks);
    rec.model = typeof b.model === 'string' && b.model ? b.model : SIM_MODEL;
    rec.messages = flattenMessages(b.messages);
    const format = requestFormat(b, rec.messages);
    rec.schemaName = format.schemaName;
    rec.mode = format.mode;
    const cap = b.max_completion_tokens ?? b.max_tokens;
    if (typeof cap === 'number') rec.maxTokens = cap;
    const { system, user } = promptOf(rec.messages);
    const ticketId = ticketIdOf(user);
    if (ticketId) rec.ticketId = ticketId;

    if (!authorized(req)) return reply(401, unauthorizedBody());
    if (parseError !== undefined)
      return reply(
        400,
        errorBody(
          `We could not parse the JSON body of your request (${parseError}). Send a JSON object.`,
          'invalid_request_error',
          'invalid_json',
        ),
      );
    if (!isObject(body))
      return reply(400, errorBody('The request body must be a JSON object.', 'invalid_request_error', 'invalid_body'));
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return reply(
        400,
        errorBody(
          "'messages' must be a non-empty array of chat messages.",
          'invalid_request_error',
          'invalid_messages',
          'messages',
        ),
      );

    const streamed = body.stream === true;
    if (streamed) rec.stream = true;
    const refused = quirkRefusal(b, format, quirks);
    if (refused) return reply(400, refused);

    const fault = faults.take({ schemaName: rec.schemaName, ...(ticketId ? { ticketId } : {}), system });
    if (fault) rec.fault = fault.kind;
    // A stall before the first chunk is a hang to a client that does not stream.
    if (fault?.kind === 'hang' || (fault?.kind === 'stall' && !streamed)) return; // answers never; 'close' records 499 when the client goes away
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return finish(0);
    }
    switch (fault?.kind) {
      case 'rate-limit': {
        const ms = fault.retryAfterMs ?? 1000;
        const headers = { 'retry-after-ms': String(ms), 'retry-after': String(Math.ceil(ms / 1000)) };
        return reply(
          429,
          errorBody(
            `Rate limit reached for ${rec.model} (simulated). Please try again in ${ms}ms.`,
            'requests',
            'rate_limit_exceeded',
          ),
          headers,
        );
      }
      case 'server-error':
        return reply(
          500,
          errorBody(
            'The server had an error while processing your request (simulated fault).',
            'server_error',
            'server_error',
          ),
        );
      case 'bad-gateway':
        return reply(
          502,
          errorBody('Bad gateway: the upstream model did not answer (simulated fault).', 'server_error', 'bad_gateway'),
        );
      case 'unauthorized':
        return reply(401, unauthorizedBody());
      case 'bad-request':
        return reply(400, errorBody('Invalid request (simulated fault).', 'invalid_request_error', 'invalid_request'));
      default:
        break;
    }

    let answer: unknown;
    let toolCalls: SimToolCall[] | undefined;
    // A coding-agent CLI's request (through Maestro's gateway) is answered by cli-agent.ts.
    const cli = cliAgentStep({ messages: Array.isArray(b.messages) ? b.messages : [], tools: b.tools, system });
    if (cli && 'toolCalls' in cli) toolCalls = cli.toolCalls;
    try {
      // A forced tool call is a structured answer in `tool` mode; other tools make an agent turn.
      const step =
        !cli && isAgentRequest(b) && format.mode !== 'tool'
          ? agentStep({ system, user, messages: Array.isArray(b.messages) ? b.messages : [], tools: b.tools })
          : undefined;
      if (step && 'toolCalls' in step) toolCalls = step.toolCalls;
      if (fault?.kind === 'tool-calls' && fault.toolCalls) toolCalls = scriptedToolCalls(fault.toolCalls, rec.seq);
      answer = step
        ? 'final' in step
          ? step.final
          : null
        : cli
          ? null
          : content.answer({ schemaName: rec.schemaName, schema: format.schema, system, user });
    } catch (err) {
      return reply(
        500,
        errorBody(`The simulated model failed: ${(err as Error).message}`, 'server_error', 'sim_failure'),
      );
    }
    let text: string | null = toolCalls ? null : cli && 'text' in cli ? cli.text : JSON.stringify(answer);
    let refusal: string | null = null;
    let finishReason: 'stop' | 'length' = 'stop';
    if (fault?.kind === 'malformed-json')
      text = `Sure! Here is the JSON: {"summary": "unterminated, ${(text ?? '').slice(0, 40)}`;
    else if (fault?.kind === 'schema-invalid' && !toolCalls)
      text = JSON.stringify(breakAgainstSchema(answer, format.schema));
    else if (fault?.kind === 'truncated') {
      text = (text ?? '').slice(0, Math.max(1, Math.floor((text ?? '').length / 2)));
      finishReason = 'length';
    } else if (fault?.kind === 'refusal') {
      refusal = "I'm sorry, but I can't help with that request (simulated refusal).";
      text = null;
    }

    const promptText = rec.messages.map((m) => m.content).join('');
    const promptTokens = tokensOf(promptText);
    const cachedTokens = promptCache.cachedTokens(rec.model, promptText); // OpenAI's rules: see prompt-cache.ts
    const shaped = text === null ? { content: null } : cli ? { content: text } : shapeAnswer(text, format, quirks);
    const reasoningTokens = tokensOf(shaped.reasoning ?? '');
    const completionTokens =
      tokensOf(shaped.content ?? shaped.toolCall?.arguments ?? refusal ?? JSON.stringify(toolCalls ?? '')) +
      reasoningTokens;
    rec.usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      cached_tokens: cachedTokens,
      reasoning_tokens: reasoningTokens,
    };
    const completion = completionBody({
      id: `chatcmpl-sim-${rec.seq}`,
      model: rec.model,
      ...shaped,
      refusal,
      finishReason,
      usage: quirks.includes('no-usage')
        ? undefined
        : usageOf(promptTokens, completionTokens, cachedTokens, reasoningTokens),
      ...(toolCalls && !refusal ? { toolCalls } : {}),
    });
    const delay = fault?.kind === 'latency' || fault?.kind === 'slow-stream' ? (fault.latencyMs ?? 1000) : 0;
    if (!streamed) return reply(200, completion, {}, delay);
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    const chunks = chunksOf(completion, includeUsage);
    // A latency fault delays the first chunk, as it delays a whole non-streamed answer (crash tests aim at it).
    await sleep((opts.latencyMs ?? 0) + (fault?.kind === 'latency' ? delay : 0));
    const status = await sendStream(res, chunks, {
      // A slow stream spreads its delay over the chunks: steady, never a long silence.
      gapMs: fault?.kind === 'slow-stream' ? Math.ceil(delay / Math.max(1, chunks.length - 1)) : 0,
      ...(fault?.kind === 'stall' ? { stallAfter: Math.max(2, Math.floor(chunks.length / 2)) } : {}),
      sleep,
      headers: { 'x-request-id': `req_sim_${rec.seq}` },
    });
    if (status !== undefined) finish(status);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/_sim/') && (await handleAdmin(req, res, path, records, faults, opts.requireApiKey))) return;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const refused = chatRefusal(req);
      if (refused) return send(res, refused.status, refused.body);
      return chat(req, res);
    }
    if (req.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      if (!authorized(req)) return send(res, 401, unauthorizedBody());
      const model = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'maestro-sim' });
      if (path === '/v1/models') return send(res, 200, { object: 'list', data: [model(SIM_MODEL)] });
      return send(res, 200, model(decodeURIComponent(path.slice('/v1/models/'.length))));
    }
    send(
      res,
      404,
      errorBody(
        `Unknown route: ${req.method ?? 'GET'} ${path}. The simulated server serves POST /v1/chat/completions and GET /v1/models.`,
        'invalid_request_error',
        'unknown_url',
      ),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed)
        send(res, 500, errorBody(`Simulated server error: ${(err as Error).message}`, 'server_error', 'sim_failure'));
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    baseUrl: `http://${urlHost}:${port}/v1`,
    port,
    requests: () => structuredClone(records),
    injectFault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    clearRequests: () => {
      records.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}
