/**
 * The LLM gateway as the executor activity uses it. The gateway itself (src/gateway/, built on the
 * s21-gateway branch) speaks the CLIs' wire formats, forwards to the role's provider, meters every
 * call and refuses past the permits. This file is the subset of its contract the executor codes
 * against (written to match src/gateway/index.ts's startGateway, so it plugs in as is), so the two
 * can be built in parallel: the worker wires the real `startGateway` into ActivityDeps.executor.
 */
import type { LlmSettings } from '../llm/client';
import type { CallMeta } from '../llm/structured';
import type { LlmCallRecord } from '../../shared/types';

/** Options of one gateway, started for one CLI attempt. */
export interface GatewayOptions {
  /** The role's real provider. */
  llm: LlmSettings;
  /** The model the provider is asked for (and billed), whatever model name the CLI sends. */
  model: string;
  /** Who the calls are booked to (the ledger's records carry it). */
  meta: CallMeta;
  /** Model calls the gateway makes before it refuses (absent: no limit but the wall clock). */
  permits?: number;
  /** The gateway refuses calls after this many ms (the attempt's wall time). */
  wallMs: number;
  /** Listen on this Unix socket (inside the attempt folder, so the sandbox can reach it). */
  socketPath?: string;
  /** false: listen on the socket only. */
  tcp?: boolean;
  /** Called with each call record as it is made (the activity heartbeats them). */
  onCall?: (r: LlmCallRecord) => void;
}

/** What the executor reads of a gateway's ledger. */
export interface GatewayLedgerView {
  /** Every upstream call, oldest first (failed ones carry `error`): the bill. */
  calls: LlmCallRecord[];
  /** Set once the gateway refuses every further call, and why. */
  stopped?: { reason: string; message: string };
}

/** A running gateway. */
export interface Gateway {
  /** http://host:port, when it listens on TCP. */
  url?: string;
  /** The Unix socket it listens on, when it does. */
  socketPath?: string;
  /** The key the CLI must send; other requests are refused. */
  token: string;
  ledger(): GatewayLedgerView;
  /** The request log (JSON lines of what the model was given), for the hygiene check. */
  requestLogText?(): string;
  close(): Promise<void>;
}

/** Starts a gateway (src/gateway's startGateway). */
export type StartGateway = (options: GatewayOptions) => Promise<Gateway>;
