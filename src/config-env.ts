/**
 * The environment variables Maestro reads, in one place: EnvSchema is what loadConfig() parses
 * (each variable with its description and default as zod metadata), OTHER_ENV_VARIABLES lists the
 * ones single modules read themselves. docs/reference/environment.md is generated from both, and
 * a test fails when the source reads a variable that neither lists.
 */
import { z } from 'zod';
import { OutputMode } from './activities/llm/output-modes';
import { DEFAULT_TASK_QUEUE } from './shared/constants';
import { DEFAULT_LLM_IDLE_TIMEOUT_MS, DEFAULT_LLM_TIMEOUT_MS } from './shared/llm-timeouts';

/** Default model when a real provider is configured. */
export const DEFAULT_MODEL = 'gpt-4.1-mini';

/** Added delay of every simulated LLM answer when MAESTRO_SIM_LATENCY_MS is unset. */
export const DEFAULT_SIM_LATENCY_MS = 150;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** Documentation of one variable: what it does, its default (as text), and its group on the page. */
// A type alias (not an interface) so it fits zod's `.meta()` record type.
export type EnvDoc = {
  description: string;
  default?: string;
  group: EnvGroup;
};

/** Sections of the generated page, in order. */
export const ENV_GROUPS = ['Temporal', 'Model provider', 'Maestro', 'Encryption', 'Telemetry', 'Development'] as const;
/** A section of the generated page. */
export type EnvGroup = (typeof ENV_GROUPS)[number];

const doc = (group: EnvGroup, description: string, def?: string | number): EnvDoc => ({
  group,
  description,
  ...(def !== undefined ? { default: String(def) } : {}),
});

/** The variables loadConfig() parses; an error names the variable and what a valid value looks like. */
export const EnvSchema = z.object({
  MAESTRO_HOME: optionalText.meta(
    doc(
      'Maestro',
      'folder for local state: artifacts, the dev server database, the `temporal` binary, outputs',
      '.maestro',
    ),
  ),
  TEMPORAL_ADDRESS: optionalText
    .pipe(
      z
        .string()
        .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. localhost:7233')
        .optional(),
    )
    .meta(
      doc(
        'Temporal',
        'host:port of a Temporal server; unset: `localhost:<MAESTRO_TEMPORAL_PORT>`, started as an embedded dev server when needed',
      ),
    ),
  TEMPORAL_NAMESPACE: optionalText.meta(doc('Temporal', 'the Temporal namespace', 'default')),
  TEMPORAL_API_KEY: optionalText.meta(doc('Temporal', 'API key for Temporal Cloud (turns TLS on)')),
  TEMPORAL_TLS: optionalText
    .pipe(z.enum(['true', 'false']).optional())
    .meta(doc('Temporal', '`true` or `false`: TLS to the server (default: on when an API key or a TLS file is set)')),
  TEMPORAL_TLS_CERT: optionalText.meta(doc('Temporal', 'mTLS client certificate file (PEM), with TEMPORAL_TLS_KEY')),
  TEMPORAL_TLS_KEY: optionalText.meta(doc('Temporal', 'mTLS client private key file (PEM), with TEMPORAL_TLS_CERT')),
  TEMPORAL_TLS_CA: optionalText.meta(doc('Temporal', 'CA certificate file (PEM) of a server with a private CA')),
  TEMPORAL_TLS_SERVER_NAME: optionalText.meta(
    doc('Temporal', 'server name to verify when it differs from the address host'),
  ),
  MAESTRO_ENCRYPTION_KEYS: optionalText.meta(
    doc(
      'Encryption',
      'payload encryption keys (AES-256), `id=base64key` comma-separated; the first encrypts, all decrypt',
    ),
  ),
  MAESTRO_ENCRYPTION_KEY_FILE: optionalText.meta(
    doc(
      'Encryption',
      'a JSON file `{ "current": "id", "keys": { "id": "base64key" } }` (instead of MAESTRO_ENCRYPTION_KEYS)',
    ),
  ),
  MAESTRO_TASK_QUEUE: optionalText.meta(
    doc('Maestro', 'the main task queue (roles with their own queue use `<queue>-role-<name>`)', DEFAULT_TASK_QUEUE),
  ),
  // Digits only (no '0x10', '1e3', '-1'); 0 asks the embedded server to pick a free port.
  MAESTRO_UI_PORT: optionalText
    .pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be a port number from 1 to 65535, or 0 to pick a free port')
        .transform(Number)
        .refine((n) => n <= 65535, 'must be a port number from 1 to 65535, or 0 to pick a free port')
        .optional(),
    )
    .meta(
      doc('Temporal', 'Web UI port of the embedded dev server; 0 picks a free port', 'MAESTRO_TEMPORAL_PORT + 1000'),
    ),
  OPENAI_API_KEY: optionalText.meta(
    doc(
      'Model provider',
      'key of an OpenAI-compatible provider; with neither key nor base URL the simulated LLM answers',
    ),
  ),
  OPENAI_BASE_URL: optionalText
    .pipe(z.url({ message: 'must be a URL such as https://api.openai.com/v1' }).optional())
    .meta(
      doc(
        'Model provider',
        'base URL of an OpenAI-compatible API (a local server needs no key)',
        'https://api.openai.com/v1',
      ),
    ),
  AZURE_OPENAI_ENDPOINT: optionalText
    .pipe(z.url({ message: 'must be a URL such as https://my-resource.openai.azure.com' }).optional())
    .meta(doc('Model provider', 'Azure OpenAI resource URL; model names are then deployment names')),
  AZURE_OPENAI_API_KEY: optionalText.meta(
    doc('Model provider', 'key of the Azure OpenAI resource (else OPENAI_API_KEY)'),
  ),
  OPENAI_API_VERSION: optionalText.meta(
    doc('Model provider', 'Azure OpenAI API version, e.g. 2024-10-21 (required with AZURE_OPENAI_ENDPOINT)'),
  ),
  MAESTRO_CONFIG: optionalText.meta(
    doc('Maestro', 'path of the configuration file', './maestro.config.json when present'),
  ),
  MAESTRO_TRUST_CONFIG: optionalText.meta(
    doc('Maestro', '`1`: use a configuration file that defines MCP server commands or webhooks (as --trust-config)'),
  ),
  MAESTRO_MODEL: optionalText.meta(
    doc('Model provider', 'model of roles without their own (`maestro-sim` with the simulated LLM)', DEFAULT_MODEL),
  ),
  MAESTRO_BOSS_MODEL: optionalText.meta(
    doc('Model provider', "the Boss's model (the file's `boss.model` wins)", 'MAESTRO_MODEL'),
  ),
  MAESTRO_OUTPUT_MODE: optionalText
    .pipe(OutputMode.optional())
    .meta(
      doc(
        'Model provider',
        "structured-output mode: json_schema, json_object, tool or text (default: the file's `llm.outputMode`, else the provider's)",
      ),
    ),
  MAESTRO_LOG_LEVEL: optionalText
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).optional())
    .meta(
      doc(
        'Maestro',
        'log level of the Temporal worker runtime: TRACE, DEBUG, INFO, WARN or ERROR',
        'WARN (ERROR for `maestro run`)',
      ),
    ),
  MAESTRO_SIM_LATENCY_MS: optionalText
    .pipe(z.coerce.number<string | undefined>().int().min(0).max(600_000).optional())
    .meta(doc('Development', 'added delay of every simulated LLM answer, in ms', DEFAULT_SIM_LATENCY_MS)),
  MAESTRO_LLM_TIMEOUT_MS: optionalText
    .pipe(z.coerce.number<string | undefined>().int().min(1000).max(3_600_000).optional())
    .meta(doc('Model provider', 'HTTP timeout of one model call, in ms', DEFAULT_LLM_TIMEOUT_MS)),
  MAESTRO_LLM_IDLE_TIMEOUT_MS: optionalText
    .pipe(z.coerce.number<string | undefined>().int().min(1000).max(3_600_000).optional())
    .meta(
      doc(
        'Model provider',
        'a streamed model call fails when the server sends no token for this long, in ms (a slow model that keeps sending is never cut off by it)',
        DEFAULT_LLM_IDLE_TIMEOUT_MS,
      ),
    ),
  MAESTRO_LLM_CONTENT_RETRIES: optionalText
    .pipe(z.coerce.number<string | undefined>().int().min(0).max(5).optional())
    .meta(doc('Model provider', 'fresh attempts after an answer that fails validation even after its repair call', 1)),
  MAESTRO_REQUIRE_LLM: optionalText
    .pipe(z.enum(['0', '1', 'true', 'false']).optional())
    .meta(
      doc(
        'Model provider',
        'a worker refuses to start on the simulated LLM (set to 1 by docker-compose.yml, so a deployment without a provider fails loudly)',
        '0',
      ),
    ),
});

/** Variables read outside loadConfig(), each by the module named in `readBy`. */
export const OTHER_ENV_VARIABLES: Record<string, EnvDoc & { readBy: string; values?: string }> = {
  MAESTRO_TEMPORAL_PORT: {
    ...doc(
      'Temporal',
      'gRPC port of the embedded dev server (and of `localhost` when TEMPORAL_ADDRESS is unset)',
      7233,
    ),
    values: 'integer 1–65535',
    readBy: 'src/config.ts',
  },
  MAESTRO_CODEC_AUTH_TOKEN: {
    ...doc('Encryption', 'token `maestro codec-server` requires (as --auth-token)'),
    readBy: 'src/client/commands/codec-server.ts',
  },
  MAESTRO_WORKER_RELAUNCH: {
    ...doc('Maestro', '`0`: `maestro worker` stays in one process instead of relaunching with its memory settings', 1),
    readBy: 'src/client/worker-relaunch.ts',
  },
  MAESTRO_SANDBOX_UIDS: {
    ...doc('Maestro', 'the uid range of `run_command` sandboxes when the worker runs as root', '1500000000-1500009999'),
    values: '`first-last`',
    readBy: 'src/activities/tools/sandbox-uids.ts',
  },
  MAESTRO_CHROMIUM_PATH: {
    ...doc('Maestro', 'the Chromium binary of the `check_page` tool', '/usr/bin/chromium'),
    readBy: 'src/activities/tools/check-page.ts',
  },
  TEMPORAL_CLI_PATH: {
    ...doc('Temporal', 'the `temporal` CLI binary (else PATH, else installed into MAESTRO_HOME)'),
    readBy: 'src/dev/temporal-cli.ts',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    ...doc('Telemetry', 'OTLP/HTTP endpoint: turns tracing on'),
    readBy: 'src/telemetry/tracing.ts',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    ...doc('Telemetry', 'OTLP/HTTP endpoint of traces only: turns tracing on'),
    readBy: 'src/telemetry/tracing.ts',
  },
  OTEL_SERVICE_NAME: {
    ...doc('Telemetry', 'service name of the spans', '`maestro-worker`, or `maestro-client` for the CLI'),
    readBy: 'src/telemetry/tracing.ts',
  },
  MAESTRO_DEBUG: {
    ...doc('Development', 'any value: print the stack trace of an unexpected error'),
    readBy: 'src/client/cli-program.ts',
  },
  MAESTRO_LLAMA_MODEL: {
    ...doc('Development', 'GGUF model file of the real-engine test server (`npm run llama-engine`)'),
    readBy: 'src/dev/llama-engine/model-file.ts',
  },
  MAESTRO_LLAMA_REPEAT_PENALTY: {
    ...doc('Development', 'repeat penalty of the real-engine test server', 1.1),
    readBy: 'src/dev/llama-engine/engine.ts',
  },
};

/**
 * Variables Maestro sets for its own child processes (not settings): the drift test accepts them
 * in the source without a row on the page.
 */
export const INTERNAL_ENV_VARIABLES = [
  'MAESTRO_WORKER_RELAUNCHED',
  'MAESTRO_GATEWAY_TOKEN',
  'MAESTRO_SIM_EOF',
] as const;
