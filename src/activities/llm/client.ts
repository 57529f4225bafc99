/**
 * Builds the openai client for the configured provider: any OpenAI-compatible server (OpenAI,
 * Ollama, vLLM, llama.cpp, LM Studio, OpenRouter, the simulated LLM) or Azure OpenAI through the
 * SDK's own `AzureOpenAI`. Either way the client makes exactly one attempt: Temporal retries.
 */
import OpenAI, { AzureOpenAI } from 'openai';
import { printable } from '../../shared/control-chars';
import { redactUrl } from '../../shared/redact-url';
import type { ProviderMemory, TokenLimitParam } from './adaptations';
import type { OutputMode } from './output-modes';
import type { ModelPrice } from './pricing';

/** Settings of the provider connection. */
export interface LlmSettings {
  /** 'openai' (default): any OpenAI-compatible server at `baseUrl`; 'azure': `azure` settings. */
  provider?: 'openai' | 'azure';
  baseUrl?: string;
  apiKey?: string;
  azure?: { endpoint: string; apiVersion: string };
  /** Timeout of one HTTP request (MAESTRO_LLM_TIMEOUT_MS). */
  timeoutMs: number;
  /** A streamed call fails after this long without a chunk (MAESTRO_LLM_IDLE_TIMEOUT_MS; default 60 s). */
  idleTimeoutMs?: number;
  /** The whole price table to use (defaults to the built-in one). */
  prices?: Readonly<Record<string, ModelPrice>>;
  /** Structured-output mode for roles that set none (default `json_schema`). */
  outputMode?: OutputMode;
  /** Output-token parameter (default: `max_completion_tokens` for OpenAI and Azure, else `max_tokens`). */
  tokenParam?: TokenLimitParam;
  /** Where refusals are remembered (default: the process-wide memory). */
  memory?: ProviderMemory;
}

/** Where requests really go, credentials included: for the client only, never shown. */
function requestBaseUrl(s: LlmSettings): string {
  if (s.provider === 'azure' && s.azure) return `${s.azure.endpoint}/openai`;
  return s.baseUrl ?? 'https://api.openai.com/v1';
}

/** Where requests go, as shown in messages, logs and the doctor: credentials in the URL masked. */
export function endpointOf(s: LlmSettings): string {
  return redactUrl(requestBaseUrl(s));
}

/** The environment variable that holds the key, for error messages. */
export function keyVariableOf(s: LlmSettings): string {
  return s.provider === 'azure' ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY';
}

/** Longest piece of a log line the SDK writes: it quotes what the server sent (an unparsable SSE line). */
const MAX_LOGGED = 500;
const shown = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.slice(0, 20).map(shown);
  if (typeof v !== 'string') return v;
  const text = printable(v);
  return text.length > MAX_LOGGED ? `${text.slice(0, MAX_LOGGED)}… (cut)` : text;
};
/**
 * The SDK logs a stream line it cannot parse, verbatim: a hostile server's ESC/OSC bytes would
 * reach the worker's terminal and log, a megabyte line whole. Its strings are escaped and cut.
 */
const serverTextLogger = Object.fromEntries(
  (['error', 'warn', 'info', 'debug'] as const).map((level) => [
    level,
    (message: string, ...rest: unknown[]) => console[level](shown(message), ...rest.map(shown)),
  ]),
) as unknown as NonNullable<ConstructorParameters<typeof OpenAI>[0]>['logger'];

/** A client with retries off (`maxRetries: 0`) and the request timeout from the settings. */
export function createOpenAiClient(s: LlmSettings): OpenAI {
  const common = { maxRetries: 0, timeout: s.timeoutMs, logger: serverTextLogger };
  if (s.provider === 'azure') {
    if (!s.azure) throw new Error('provider "azure" needs azure.endpoint and azure.apiVersion');
    // baseURL instead of `endpoint`, so a stray OPENAI_BASE_URL in the environment cannot conflict.
    return new AzureOpenAI({
      baseURL: requestBaseUrl(s),
      apiKey: s.apiKey,
      apiVersion: s.azure.apiVersion,
      ...common,
    });
  }
  return new OpenAI({ baseURL: s.baseUrl, apiKey: s.apiKey ?? 'not-needed', ...common });
}
