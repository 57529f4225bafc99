/**
 * What LLM a worker talks to, in a form other processes can read: each Maestro worker puts a
 * short fingerprint and summary of its LLM settings (provider, endpoint, models) and its
 * MAESTRO_HOME into its Temporal worker identity, which `describeTaskQueue` shows to anyone. So
 * `maestro run` can tell whether a worker already polling the queue would run the caller's goal
 * with the caller's settings, and say plainly which worker and settings will run it.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { MaestroConfig } from '../config';
import { redactUrl } from '../shared/redact-url';
import { launchedPid } from './worker-launch';

/** Base URL the openai client uses when none is configured. */
const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Longest identity we advertise (Temporal shows it in the UI and CLI). */
const MAX_IDENTITY_CHARS = 400;

/** The LLM settings that decide what a run's agents get: where the calls go and which models answer. */
export interface LlmSettings {
  /** `simulated`, or the provider and endpoint such as `openai https://api.openai.com/v1`. */
  endpoint: string;
  bossModel: string;
  /** Models of the roles, distinct, sorted. */
  workerModels: string[];
}

/**
 * The LLM settings of a configuration. An API key is never part of them, nor are credentials
 * written into the endpoint URL (masked: the identity is stored in every history event).
 */
export function llmSettingsOf(config: MaestroConfig): LlmSettings {
  const endpoint = config.llm.simulated
    ? 'simulated'
    : config.llm.provider === 'azure'
      ? `azure ${redactUrl(config.llm.azure?.endpoint ?? '')}`
      : `openai ${redactUrl((config.llm.baseUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, ''))}`;
  const workerModels = [...new Set(config.roles.map((r) => r.model ?? config.llm.workerModel))].sort();
  return { endpoint, bossModel: config.boss.model, workerModels };
}

/** One line a person can read: `openai http://host/v1, boss gpt-x, workers gpt-y`. */
export function describeLlmSettings(s: LlmSettings): string {
  return `${s.endpoint}, boss ${s.bossModel}, workers ${s.workerModels.join('+')}`;
}

/** A short hash of the settings: equal settings, equal fingerprint. */
export function llmFingerprint(s: LlmSettings): string {
  const canonical = JSON.stringify([s.endpoint, s.bossModel, s.workerModels]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/**
 * The Temporal identity of a Maestro worker: `pid@host maestro[llm=<fp>; <settings>; home=<dir>]`,
 * with the pid a person started (worker-launch.ts).
 */
export function workerIdentity(config: MaestroConfig): string {
  const s = llmSettingsOf(config);
  const identity = `${launchedPid()}@${hostname()} maestro[llm=${llmFingerprint(s)}; ${describeLlmSettings(s)}; home=${config.home}]`;
  return identity.length <= MAX_IDENTITY_CHARS ? identity : `${identity.slice(0, MAX_IDENTITY_CHARS - 4)}...]`;
}

/** What a worker identity advertises; `fingerprint` is absent for workers that do not say (older or foreign). */
export function parseWorkerIdentity(identity: string): { fingerprint?: string; settings?: string } {
  const m = /maestro\[llm=([0-9a-f]{12}); (.*)\]$/.exec(identity);
  return m?.[1] && m[2] !== undefined ? { fingerprint: m[1], settings: m[2] } : {};
}
