/**
 * Maestro's LLM gateway: the one door through which a coding-agent CLI reaches a model.
 *
 * The executor activity starts one gateway per ticket attempt and points the CLI at it:
 * ```ts
 * const gw = await startGateway({
 *   llm: settings.llm,                    // the role's provider (client.ts LlmSettings)
 *   model: role.model,                    // what is asked and billed, whatever the CLI names
 *   meta: { kind: 'work', role, ticketId, attempt },   // for the call records
 *   permits: input.callPermits,           // calls the run's budget allows (absent: no limit)
 *   wallMs: 20 * 60_000,                  // after this every call is refused
 *   socketPath: join(attemptDir, 'gateway.sock'),   // optional: for a sandbox with no network
 *   requestLog: join(attemptDir, 'gateway-requests.jsonl'), // outside the CLI's reach
 *   onCall: (r) => heartbeat(gw.ledger()),
 * });
 * // CLI env: OPENAI_BASE_URL / ANTHROPIC_BASE_URL = gw.url (+ '/v1' for OpenAI formats), key = gw.token
 * ...
 * const bill = gw.ledger();   // calls (LlmCallRecord[]), usage, permitsUsed, stopped?.reason
 * await gw.close();
 * ```
 * - Routes: `POST /v1/chat/completions` (OpenCode, Qwen Code, aider), `POST /v1/responses`
 *   (Codex), `POST /v1/messages` (Claude Code; also `/v1/messages/count_tokens`), `GET /v1/models`,
 *   `HEAD /` (200, no key needed). Streamed or not, with tools; the `/v1` prefix is optional.
 * - Key: `Authorization: Bearer <token>` or `x-api-key: <token>`; anything else is a 401, counted
 *   in `ledger().requests.unauthorized` and passed to `log`.
 * - Upstream: one non-streamed chat completion per call with the role's settings; each call is
 *   billed (LlmCallRecord, pricing.ts) whether it was answered or failed.
 * - Budget: a permit is taken before each upstream call; with none left, or past `wallMs`, every
 *   call gets a 400 in the CLI's own error shape (a status no CLI retries) and `ledger().stopped`
 *   says why. Busy (more than `maxConcurrent` calls at once) is a 429 with retry-after.
 * - Sandbox: with `socketPath` the gateway also listens on that Unix socket (mode 0666; the key
 *   guards it); the executor's forwarder (activities/executor/bridge.ts FORWARDER_SOURCE) runs
 *   inside the sandbox and pipes the sandbox's own loopback to it.
 * - Request log: JSON lines of what the model was given per call (deltas; `readRequestLog`
 *   rebuilds each request), bounded by `limits.requestLogBytes`.
 */
import { appendFileSync } from 'node:fs';
import { createOpenAiClient, type LlmSettings } from '../activities/llm/client';
import type { CallMeta } from '../activities/llm/structured';
import type { LlmCallRecord } from '../shared/types';
import { Ledger, type GatewayLedger } from './ledger';
import { RequestLog } from './request-log';
import { limitedServer, listenSocket, listenTcp } from './listen';
import { createHandler, LIMITS, newGatewayToken, type GatewayEvent, type GatewayLimits } from './server';

export type { GatewayLedger, StopReason } from './ledger';
export type { GatewayEvent, GatewayLimits } from './server';
export { LIMITS as GATEWAY_LIMITS } from './server';
export { readRequestLog, parseRequestLog, type LoggedMessage, type LoggedRequest } from './request-log';

/** How a gateway is started (see the module comment). */
export interface GatewayOptions {
  llm: LlmSettings;
  model: string;
  meta: CallMeta;
  permits?: number;
  wallMs: number;
  /** TCP host (default 127.0.0.1); `tcp: false` listens on the socket only. */
  host?: string;
  port?: number;
  tcp?: boolean;
  socketPath?: string;
  /** File the request log is appended to (created 0600); absent: kept in memory. */
  requestLog?: string;
  limits?: Partial<GatewayLimits>;
  log?: (e: GatewayEvent) => void;
  onCall?: (r: LlmCallRecord) => void;
}

/** A running gateway. */
export interface Gateway {
  /** `http://127.0.0.1:<port>` (no `/v1`), absent with `tcp: false`. */
  url?: string;
  socketPath?: string;
  /** The key the CLI must send. */
  token: string;
  /** The bill and budget so far (a copy). */
  ledger(): GatewayLedger;
  /** The request log's text. */
  requestLogText(): string;
  /** Refuses further calls, aborts the calls in flight (they stay billed) and stops listening. */
  close(): Promise<void>;
}

/** Starts a gateway for one ticket attempt. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  if (!Number.isFinite(opts.wallMs) || opts.wallMs <= 0)
    throw new Error(`startGateway: wallMs must be a finite number of milliseconds above 0 (got ${opts.wallMs})`);
  if (opts.permits !== undefined && (!Number.isInteger(opts.permits) || opts.permits < 0))
    throw new Error(`startGateway: permits must be a whole number of calls, 0 or more (got ${opts.permits})`);
  const limits = { ...LIMITS, ...opts.limits };
  const ledger = new Ledger(opts.permits, Date.now() + opts.wallMs);
  const requestLog = new RequestLog(opts.requestLog, limits.requestLogBytes);
  if (opts.requestLog) appendFileSync(opts.requestLog, '', { mode: 0o600 });
  const token = newGatewayToken();
  const closing = new AbortController();
  const handler = createHandler(
    {
      client: createOpenAiClient(opts.llm),
      llm: opts.llm,
      model: opts.model,
      meta: opts.meta,
      token,
      ledger,
      requestLog,
      limits,
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.onCall ? { onCall: opts.onCall } : {}),
    },
    closing.signal,
  );
  const servers: ReturnType<typeof limitedServer>[] = [];
  let url: string | undefined;
  try {
    if (opts.tcp !== false) {
      const s = limitedServer(handler, limits);
      servers.push(s);
      const host = opts.host ?? '127.0.0.1';
      const port = await listenTcp(s.server, host, opts.port ?? 0);
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }
    if (opts.socketPath) {
      const s = limitedServer(handler, limits);
      servers.push(s);
      await listenSocket(s.server, opts.socketPath);
    }
  } catch (err) {
    for (const s of servers) s.destroyAll();
    throw err;
  }
  if (servers.length === 0) throw new Error('startGateway: give a socketPath or leave TCP on');
  let closed: Promise<void> | undefined;
  return {
    ...(url ? { url } : {}),
    ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
    token,
    ledger: () => ledger.snapshot({ entries: requestLog.entries, dropped: requestLog.dropped }),
    requestLogText: () => requestLog.text(),
    close: () =>
      (closed ??= (async () => {
        ledger.stop('closed', 'the ticket attempt ended; the Maestro gateway is closed');
        closing.abort();
        await Promise.all(
          servers.map(
            (s) =>
              new Promise<void>((resolve) => {
                s.server.close(() => resolve());
                s.destroyAll();
              }),
          ),
        );
      })()),
  };
}
