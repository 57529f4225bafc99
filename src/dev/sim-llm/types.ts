/**
 * Public types of the simulated OpenAI-compatible LLM server (options, handle, faults and the
 * request log), kept apart so the content generators and the HTTP layer can share them.
 */

/** Model id the server lists on `/v1/models`; requests may name any model, it is echoed back. */
export const SIM_MODEL = 'maestro-sim';

/** A provider quirk the simulated server imitates (the list is in quirks.ts). */
export type SimQuirk =
  | 'json-schema-refused'
  | 'json-object-refused'
  | 'tools-refused'
  | 'tools-ignored'
  | 'prose-wrapped'
  | 'reasoning-content'
  | 'no-usage'
  | 'max-tokens-refused'
  | 'temperature-refused'
  | 'small-output-limit'
  | 'stream-refused'
  | 'stream-options-refused';

/** How the simulated server is started. */
export interface SimLlmOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 (default) picks a free port. */
  port?: number;
  /** When set, `/v1/*` and `/_sim/*` requests without `Authorization: Bearer <key>` get a 401. */
  requireApiKey?: string;
  /** Milliseconds added before every answer; default 0. */
  latencyMs?: number;
  /** When set, each finished request record is appended to this file as one JSON line. */
  logFile?: string;
  /** Keep at most this many request records in memory (oldest dropped); default: all (tests). */
  maxRecords?: number;
  /** Provider quirks to imitate (see quirks.ts), e.g. `['json-schema-refused', 'no-usage']`. */
  quirks?: readonly SimQuirk[];
}

/** What went wrong, on purpose, with one request. */
export type FaultKind =
  | 'rate-limit'
  | 'server-error'
  | 'bad-gateway'
  | 'hang'
  | 'drop'
  | 'malformed-json'
  | 'schema-invalid'
  | 'truncated'
  | 'refusal'
  | 'unauthorized'
  | 'bad-request'
  | 'latency'
  | 'tool-calls'
  | 'stall'
  | 'slow-stream';

/** Every fault kind, for validating admin requests. */
export const FAULT_KINDS: readonly FaultKind[] = [
  'rate-limit',
  'server-error',
  'bad-gateway',
  'hang',
  'drop',
  'malformed-json',
  'schema-invalid',
  'truncated',
  'refusal',
  'unauthorized',
  'bad-request',
  'latency',
  'tool-calls',
  'stall',
  'slow-stream',
];

/** Which requests a fault applies to; every field given must match. */
export interface FaultMatch {
  schemaName?: string;
  ticketId?: string;
  /** Substring of the system message. */
  systemIncludes?: string;
}

/** A fault to inject into the next matching request(s). */
export interface FaultSpec {
  kind: FaultKind;
  /** How many matching requests it applies to; default 1. */
  times?: number;
  match?: FaultMatch;
  /** For 'rate-limit': the wait the server asks for; default 1000. */
  retryAfterMs?: number;
  /**
   * For 'latency': the delay before the normal answer; for 'slow-stream': the time a streamed answer
   * is spread over, in steady chunks; default 1000. ('stall' streams half the answer, then nothing.)
   */
  latencyMs?: number;
  /**
   * For 'tool-calls': the agent turn answers exactly these calls (a hostile or broken model:
   * a thousand calls, duplicate JSON keys, arguments of any shape), `arguments` sent verbatim.
   */
  toolCalls?: { id?: string; name: string; arguments: string }[];
}

/** One chat message as recorded (content flattened to text). */
export interface SimMessage {
  role: string;
  content: string;
}

/**
 * One `/v1/chat/completions` request as the server saw it, so tests can check what each agent
 * was given. `status` is 0 while no answer was sent (a hang in progress, a dropped socket) and
 * 499 when the client went away before the answer.
 */
export interface SimRequestRecord {
  seq: number;
  at: string;
  model: string;
  schemaName: string;
  /** Structured-output mode of the request: json_schema, json_object, tool or text. */
  mode?: string;
  /** The output cap the request sent (`max_completion_tokens` or `max_tokens`; absent: none). */
  maxTokens?: number;
  /** The request asked for a streamed answer (`stream: true`). */
  stream?: boolean;
  messages: SimMessage[];
  ticketId?: string;
  status: number;
  fault?: FaultKind;
  /** Tokens the answer was billed (also when the `no-usage` quirk kept them out of the reply). */
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number; reasoning_tokens?: number };
  durationMs: number;
}

/** Handle on a running simulated server. */
export interface SimLlm {
  /** Base URL for the OpenAI client, e.g. http://127.0.0.1:PORT/v1. */
  baseUrl: string;
  port: number;
  /** Copies of the request records so far, oldest first. */
  requests(): SimRequestRecord[];
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  clearRequests(): void;
  /** Stops listening and destroys open sockets, including hung requests. */
  close(): Promise<void>;
}
