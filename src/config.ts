/**
 * Process configuration from environment variables, validated with zod. Every error names the
 * variable and says what a valid value looks like, so a typo fails at start-up, not mid-run.
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './shared/constants';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const EnvSchema = z.object({
  MAESTRO_HOME: optionalText,
  TEMPORAL_ADDRESS: optionalText.pipe(
    z
      .string()
      .regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port, e.g. localhost:7233')
      .optional(),
  ),
  TEMPORAL_NAMESPACE: optionalText,
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: optionalText.pipe(z.enum(['true', 'false']).optional()),
  MAESTRO_TASK_QUEUE: optionalText,
  MAESTRO_UI_PORT: optionalText.pipe(z.coerce.number<string | undefined>().int().min(1).max(65535).optional()),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalText.pipe(z.url({ message: 'must be a URL such as https://api.openai.com/v1' }).optional()),
  MAESTRO_MODEL: optionalText,
  MAESTRO_BOSS_MODEL: optionalText,
  MAESTRO_LOG_LEVEL: optionalText.pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).optional()),
  MAESTRO_SIM_LATENCY_MS: optionalText.pipe(z.coerce.number<string | undefined>().int().min(0).max(600_000).optional()),
  MAESTRO_LLM_TIMEOUT_MS: optionalText.pipe(
    z.coerce.number<string | undefined>().int().min(1000).max(3_600_000).optional(),
  ),
});

/** Validated settings shared by the CLI, workers and the dev runtime. */
export interface MaestroConfig {
  /** Folder for local state: artifacts, the dev server's SQLite file, the temporal binary, outputs. */
  home: string;
  temporal: {
    /** Explicit address; undefined means "localhost:7233, or start the embedded dev server". */
    address?: string;
    namespace: string;
    apiKey?: string;
    tls: boolean;
    taskQueue: string;
  };
  uiPort: number;
  /** Log level of the Temporal worker runtime (WARN keeps the terminal readable). */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Added delay of every simulated LLM answer, so progress is visible like with a real model. */
  simLatencyMs: number;
  llm: {
    apiKey?: string;
    baseUrl?: string;
    /** True when neither key nor base URL is set: the simulated LLM is used. */
    simulated: boolean;
    workerModel: string;
    bossModel: string;
    timeoutMs: number;
  };
}

/** Thrown for invalid configuration; the message lists every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Default model when a real provider is configured. */
export const DEFAULT_MODEL = 'gpt-4.1-mini';

/** Reads and validates configuration from an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): MaestroConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`,
    );
    throw new ConfigError(
      `Invalid configuration:\n${lines.join('\n')}\nFix these environment variables and try again.`,
    );
  }
  const e = parsed.data;
  const simulated = !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL;
  const workerModel = e.MAESTRO_MODEL ?? (simulated ? 'maestro-sim' : DEFAULT_MODEL);
  return {
    home: path.resolve(cwd, e.MAESTRO_HOME ?? '.maestro'),
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE ?? 'default',
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS === 'true' || (e.TEMPORAL_TLS === undefined && e.TEMPORAL_API_KEY !== undefined),
      taskQueue: e.MAESTRO_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    },
    uiPort: e.MAESTRO_UI_PORT ?? 8233,
    logLevel: e.MAESTRO_LOG_LEVEL ?? 'WARN',
    simLatencyMs: e.MAESTRO_SIM_LATENCY_MS ?? 150,
    llm: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      simulated,
      workerModel,
      bossModel: e.MAESTRO_BOSS_MODEL ?? workerModel,
      timeoutMs: e.MAESTRO_LLM_TIMEOUT_MS ?? 120_000,
    },
  };
}
