/**
 * The three wire formats behind one interface, so the server has one code path for all of them:
 * how a request body is read, how an answer is sent (whole or streamed) and how an error looks
 * (OpenAI's `{error: {...}}` or Anthropic's `{type: "error", error: {...}}`), with the error
 * types each CLI's client reads to decide whether to retry.
 */
import type { ServerResponse } from 'node:http';
import { anthropicError, anthropicEventsOf, anthropicMessageOf, parseAnthropic } from './anthropic-format';
import { chatChunksOf, chatCompletionOf, openAiError, parseChat } from './chat-format';
import { customToolsOf, parseResponses, responseEventsOf, responseOf } from './responses-format';
import type { Answer, Parsed } from './wire';

/** What kind of error a reply carries (each format names it its own way). */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'not_found'
  | 'too_large'
  | 'budget'
  | 'busy'
  | 'rate_limit'
  | 'upstream'
  | 'timeout'
  | 'bad_request';

/** One wire format. */
export interface WireFormat {
  name: 'chat' | 'responses' | 'anthropic';
  parse(body: unknown): Parsed;
  errorBody(kind: ErrorKind, message: string): unknown;
  /** Sends the answer (SSE when the request asked to stream). */
  reply(res: ServerResponse, answer: Answer, parsed: Extract<Parsed, { ok: true }>, body: unknown): void;
}

const OPENAI_TYPES: Record<ErrorKind, [string, string | null]> = {
  invalid: ['invalid_request_error', 'invalid_request'],
  bad_request: ['invalid_request_error', 'upstream_refused'],
  unauthorized: ['invalid_request_error', 'invalid_api_key'],
  not_found: ['invalid_request_error', 'unknown_url'],
  too_large: ['invalid_request_error', 'request_too_large'],
  budget: ['insufficient_quota', 'maestro_budget_exhausted'],
  busy: ['requests', 'rate_limit_exceeded'],
  rate_limit: ['requests', 'rate_limit_exceeded'],
  upstream: ['server_error', 'upstream_error'],
  timeout: ['server_error', 'upstream_timeout'],
};

const ANTHROPIC_TYPES: Record<ErrorKind, string> = {
  invalid: 'invalid_request_error',
  bad_request: 'invalid_request_error',
  unauthorized: 'authentication_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  budget: 'invalid_request_error',
  busy: 'rate_limit_error',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'api_error',
};

/** Writes server-sent events; `name` undefined writes a bare `data:` line (chat completions). */
function sse(res: ServerResponse, events: { event?: string; data: string }[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(events.map((e) => `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`).join(''));
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** OpenAI chat completions. */
export const chatFormat: WireFormat = {
  name: 'chat',
  parse: parseChat,
  errorBody: (kind, message) => openAiError(message, ...OPENAI_TYPES[kind]),
  reply: (res, answer, parsed) =>
    parsed.stream
      ? sse(
          res,
          chatChunksOf(answer, parsed.includeUsage === true).map((data) => ({ data })),
        )
      : json(res, chatCompletionOf(answer)),
};

/** OpenAI Responses. */
export const responsesFormat: WireFormat = {
  name: 'responses',
  parse: parseResponses,
  errorBody: (kind, message) => openAiError(message, ...OPENAI_TYPES[kind]),
  reply: (res, answer, parsed, body) => {
    const custom = customToolsOf(body);
    if (!parsed.stream) return json(res, responseOf(answer, custom));
    sse(
      res,
      responseEventsOf(answer, custom).map((e) => ({ event: e.event, data: JSON.stringify(e.data) })),
    );
  },
};

/** Anthropic Messages. */
export const anthropicFormat: WireFormat = {
  name: 'anthropic',
  parse: parseAnthropic,
  errorBody: (kind, message) => anthropicError(ANTHROPIC_TYPES[kind], message),
  reply: (res, answer, parsed) =>
    parsed.stream
      ? sse(
          res,
          anthropicEventsOf(answer).map((e) => ({ event: e.event, data: JSON.stringify(e.data) })),
        )
      : json(res, anthropicMessageOf(answer)),
};

/** The format of a request path (`/v1` optional, query ignored), or undefined for other routes. */
export function formatOfPath(path: string): WireFormat | undefined {
  const p = path.replace(/^\/v1(?=\/)/, '');
  if (p === '/chat/completions') return chatFormat;
  if (p === '/responses') return responsesFormat;
  if (p === '/messages') return anthropicFormat;
  return undefined;
}
