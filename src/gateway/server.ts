/**
 * The gateway's HTTP server (node:http: three routes and SSE need no framework, and every limit
 * below is one of node's own server settings). One instance serves one ticket attempt: it checks
 * the attempt's key on every request, reads bodies within a cap, translates each format into one
 * upstream chat completion, meters it and answers in the CLI's format. Every request gets an
 * answer with headers (Codex waits forever for headers that never come): upstream calls are
 * bounded by the provider timeout and the attempt's wall clock.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type OpenAI from 'openai';
import type { LlmSettings } from '../activities/llm/client';
import type { CallMeta } from '../activities/llm/structured';
import type { LlmCallRecord } from '../shared/types';
import { anthropicFormat, chatFormat, formatOfPath, type ErrorKind, type WireFormat } from './formats';
import { readBody } from './http-body';
import type { Ledger } from './ledger';
import type { RequestLog } from './request-log';
import { callUpstream } from './upstream';
import { leadingSystem } from './wire';
import { estimatePromptTokens } from '../activities/llm/usage-of';

/** Something the gateway did that an operator may want to see (unauthorized, refused, failed). */
export interface GatewayEvent {
  kind: 'unauthorized' | 'refused' | 'invalid' | 'upstream-error' | 'call';
  method: string;
  path: string;
  status: number;
  message: string;
}

/** The limits of one gateway (all optional, defaults in `LIMITS`). */
export interface GatewayLimits {
  maxBodyBytes: number;
  maxToolCalls: number;
  maxConcurrent: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  requestLogBytes: number;
}

/** Default limits: 16 MiB bodies, 128 tool calls per answer, 4 calls at once, 10 s for headers, 60 s for a body. */
export const LIMITS: GatewayLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxToolCalls: 128,
  maxConcurrent: 4,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxConnections: 64,
  requestLogBytes: 64 * 1024 * 1024,
};

/** Everything the server needs (see index.ts for the documented options). */
export interface ServerConfig {
  client: OpenAI;
  llm: LlmSettings;
  model: string;
  meta: CallMeta;
  token: string;
  ledger: Ledger;
  requestLog: RequestLog;
  limits: GatewayLimits;
  log?: (e: GatewayEvent) => void;
  onCall?: (r: LlmCallRecord) => void;
}

/** A fresh random key for one gateway (what the CLI sends as its API key). */
export function newGatewayToken(): string {
  return `mgw-${randomBytes(24).toString('base64url')}`;
}

function presentedKey(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : '';
}

function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  too_large: 413,
  budget: 400,
  busy: 429,
  rate_limit: 429,
  upstream: 502,
  timeout: 504,
};

/** The request handler shared by the TCP and the Unix-socket listeners. */
export function createHandler(cfg: ServerConfig, closing: AbortSignal) {
  let inflight = 0;
  let seq = 0;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    cfg.ledger.requests.total++;
    const format: WireFormat = path.includes('/messages') ? anthropicFormat : (formatOfPath(path) ?? chatFormat);
    const fail = (
      kind: ErrorKind,
      message: string,
      event?: GatewayEvent['kind'],
      headers: Record<string, string> = {},
    ) => {
      const status = STATUS[kind];
      if (event) cfg.log?.({ kind: event, method, path, status, message });
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(format.errorBody(kind, `Maestro gateway: ${message}`)));
    };
    if (path === '/' && (method === 'HEAD' || method === 'GET')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(method === 'HEAD' ? undefined : 'Maestro LLM gateway\n');
    }
    if (!sameKey(presentedKey(req), cfg.token)) {
      cfg.ledger.requests.unauthorized++;
      res.setHeader('connection', 'close');
      return fail('unauthorized', 'missing or wrong API key for this gateway', 'unauthorized');
    }
    const p = path.replace(/^\/v1(?=\/)/, '');
    if (method === 'GET' && (p === '/models' || p.startsWith('/models/'))) return models(res, cfg.model, p);
    if (method === 'POST' && p === '/messages/count_tokens') return countTokens(req, res, cfg, fail);
    const target = method === 'POST' ? formatOfPath(path) : undefined;
    if (!target)
      return fail(
        'not_found',
        `no route ${method} ${path}; the gateway serves POST /v1/chat/completions, POST /v1/responses, POST /v1/messages and GET /v1/models`,
      );
    const body = await readBody(req, cfg.limits.maxBodyBytes);
    if (!body.ok) {
      res.setHeader('connection', 'close');
      cfg.ledger.requests.invalid++;
      return fail(body.tooLarge ? 'too_large' : 'invalid', body.message, 'invalid');
    }
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch (err) {
      cfg.ledger.requests.invalid++;
      return fail('invalid', `the body is not JSON (${(err as Error).message})`, 'invalid');
    }
    let parsed: ReturnType<WireFormat['parse']>;
    try {
      parsed = target.parse(json);
      if (parsed.ok) JSON.stringify(parsed.chat); // what the provider is sent must serialise (tool schemas too)
    } catch (err) {
      // JSON.parse takes any depth; re-serialising a thousands-deep value overflows the stack.
      parsed = {
        ok: false,
        message: `the request could not be read (${(err as Error).message}); nest values less deeply`,
      };
    }
    if (!parsed.ok) {
      cfg.ledger.requests.invalid++;
      return fail('invalid', parsed.message, 'invalid');
    }
    parsed.chat.messages = leadingSystem(parsed.chat.messages);
    const refused = cfg.ledger.refusal();
    if (refused) {
      cfg.ledger.requests.refused++;
      return fail('budget', refused.message, 'refused');
    }
    if (inflight >= cfg.limits.maxConcurrent) {
      cfg.ledger.requests.refused++;
      return fail('busy', `at most ${cfg.limits.maxConcurrent} model calls at once; retry`, 'refused', {
        'retry-after': '1',
      });
    }
    // What the model is given is logged before it is sent: a request that cannot be logged is not sent.
    const n = ++seq;
    try {
      cfg.requestLog.append(n, target.name, parsed.model, parsed.chat.messages);
    } catch (err) {
      return fail(
        'upstream',
        `could not write the request log (${(err as Error).message}); the call was not made`,
        'upstream-error',
      );
    }
    if (!cfg.ledger.take()) {
      cfg.ledger.requests.refused++;
      return fail('budget', cfg.ledger.refusal()?.message ?? 'refused', 'refused');
    }
    inflight++;
    const id = `gw${n}${randomBytes(4).toString('hex')}`;
    const abort = new AbortController();
    const onGone = () => abort.abort();
    res.on('close', onGone);
    closing.addEventListener('abort', onGone);
    try {
      const result = await callUpstream({
        client: cfg.client,
        settings: cfg.llm,
        model: cfg.model,
        askedModel: parsed.model,
        chat: parsed.chat,
        meta: cfg.meta,
        timeoutMs: Math.max(1, Math.min(cfg.llm.timeoutMs, cfg.ledger.left())),
        maxToolCalls: cfg.limits.maxToolCalls,
        signal: abort.signal,
        id,
      });
      cfg.ledger.calls.push(result.record);
      cfg.onCall?.(result.record);
      if (!result.ok) return fail(result.kind, result.message, 'upstream-error');
      cfg.log?.({
        kind: 'call',
        method,
        path,
        status: 200,
        message: `${result.record.promptTokens}+${result.record.completionTokens} tokens`,
      });
      if (!res.destroyed) target.reply(res, result.answer, parsed, json);
    } finally {
      inflight--;
      res.off('close', onGone);
      closing.removeEventListener('abort', onGone);
    }
  };
}

function models(res: ServerResponse, model: string, p: string): void {
  const entry = (id: string) => ({
    id,
    object: 'model',
    type: 'model',
    created: 0,
    created_at: '1970-01-01T00:00:00Z',
    owned_by: 'maestro',
    display_name: id,
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  if (p.startsWith('/models/')) return void res.end(JSON.stringify(entry(decodeURIComponent(p.slice(8)))));
  res.end(JSON.stringify({ object: 'list', data: [entry(model)], has_more: false, first_id: model, last_id: model }));
}

/** Claude Code's token counting: answered here from a tokenizer (no upstream call, no permit). */
async function countTokens(
  req: IncomingMessage,
  res: ServerResponse,
  cfg: ServerConfig,
  fail: (kind: ErrorKind, message: string, event?: GatewayEvent['kind']) => void,
): Promise<void> {
  const body = await readBody(req, cfg.limits.maxBodyBytes);
  let json: unknown;
  try {
    json = body.ok ? JSON.parse(body.text) : undefined;
  } catch {
    json = undefined;
  }
  const parsed = anthropicFormat.parse(json);
  if (!parsed.ok) return fail('invalid', parsed.ok === false ? parsed.message : '', 'invalid');
  const tokens = estimatePromptTokens(parsed.chat.messages, JSON.stringify(parsed.chat.tools ?? []));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ input_tokens: tokens }));
}
