/**
 * The LLM gateway as the executor activity uses it. The gateway itself (src/gateway/, built on the
 * s21-gateway branch) speaks the CLIs' wire formats, forwards to the role's provider, meters every
 * call and refuses past the permits. This file is only the contract the executor codes against, so
 * the two can be built in parallel: the worker wires the real `startGateway` into ActivityDeps.
 */
import type { LlmCallRecord } from '../../shared/types';

/** Where the gateway forwards: the role's real provider (OpenAI-compatible chat completions). */
export interface GatewayUpstream {
  baseUrl?: string;
  apiKey?: string;
}

/** Options of one gateway, started for one CLI attempt. */
export interface GatewayOptions {
  upstream: GatewayUpstream;
  /** The model the provider is asked for, whatever model name the CLI sends. */
  model: string;
  /** Model calls the gateway answers before it refuses (absent: no limit but the wall clock). */
  permits?: number;
  /** The gateway refuses calls after this many ms (the attempt's wall time). */
  wallMs: number;
  /** Who the calls are booked to (the ledger's records carry it). */
  record: {
    kind: 'work';
    role: string;
    ticketId: string;
    attempt: number;
    taskQueue?: string;
    workerIdentity?: string;
  };
}

/** A running gateway. */
export interface Gateway {
  /** http://host:port (the CLI's base URL, reached through the sandbox's bridge). */
  url: string;
  /** A Unix socket the gateway also listens on, when it does (the bridge prefers it). */
  socketPath?: string;
  /** The bearer token / API key the CLI must send; other requests are refused. */
  token: string;
  /** Every call the provider answered or that failed, in order (LlmCallRecord, billed as is). */
  ledger(): LlmCallRecord[];
  /** Whether a call was refused because the permits were used up. */
  permitsUsedUp?(): boolean;
  close(): Promise<void>;
}

/** Starts a gateway (src/gateway's startGateway). */
export type StartGateway = (options: GatewayOptions) => Promise<Gateway>;
