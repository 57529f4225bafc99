/**
 * Process configuration from environment variables (declared in config-env.ts), validated with zod. Every error names the
 * variable and says what a valid value looks like, so a typo fails at start-up, not mid-run.
 */
import path from 'node:path';
import type { z } from 'zod';
import type { TokenLimitParam } from './activities/llm/adaptations';
import type { OutputMode, ReasoningEffort } from './activities/llm/output-modes';
import type { ModelPrice } from './activities/llm/pricing';
import { encryptionKeysFromEnv, type EncryptionKeys } from './codec/keys';
import { DEFAULT_MODEL, DEFAULT_SIM_LATENCY_MS, EnvSchema } from './config-env';
import { ConfigFileError, readConfigFile, type ConfigFile } from './config-file';
import { requireTrustedConfig, UntrustedConfigError } from './config-trust';
import { tlsSettingsFromEnv, type TlsSettings } from './config-tls';
import { DEFAULT_TASK_QUEUE, roleTaskQueue } from './shared/constants';
import { DEFAULT_LLM_IDLE_TIMEOUT_MS, DEFAULT_LLM_TIMEOUT_MS } from './shared/llm-timeouts';
import { executorSettingsOf } from './shared/executor';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from './shared/roles';
import { mcpServerRef, type AgentSettings, type McpServerConfig } from './shared/tools';
import type { RoleInfo } from './shared/types';

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
    /** mTLS client certificate, private CA and server name (TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME). */
    tlsSettings?: TlsSettings;
    taskQueue: string;
  };
  /** Payload encryption keys (MAESTRO_ENCRYPTION_KEYS / _KEY_FILE); undefined: payloads stay plain. */
  encryption?: EncryptionKeys;
  /**
   * Files holding this process's secrets (MAESTRO_ENCRYPTION_KEY_FILE, TEMPORAL_TLS_KEY), absolute:
   * `run_command`'s sandbox covers them (and what they link to), wherever they are.
   */
  secretFiles?: string[];
  /** Web UI port of the embedded dev server (MAESTRO_UI_PORT; 0: a free port, picked when it starts). */
  uiPort: number;
  /** Log level of the Temporal worker runtime; unset: WARN, or ERROR for `maestro run` (it reports failures itself). */
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Added delay of every simulated LLM answer, so progress is visible like with a real model. */
  simLatencyMs: number;
  llm: {
    apiKey?: string;
    baseUrl?: string;
    /** True when neither key nor base URL is set: the simulated LLM is used. */
    simulated: boolean;
    /** MAESTRO_REQUIRE_LLM=1: a worker refuses to start on the simulated LLM (deployments). */
    required: boolean;
    /** Which client talks to the provider: any OpenAI-compatible server, or Azure OpenAI. */
    provider: 'openai' | 'azure';
    /** Azure OpenAI settings (provider 'azure'); the model names are deployment names there. */
    azure?: { endpoint: string; apiVersion: string };
    /** Default model of roles without their own. */
    workerModel: string;
    bossModel: string;
    timeoutMs: number;
    /** A streamed call fails after this long without a token (MAESTRO_LLM_IDLE_TIMEOUT_MS, else the file's `llm.idleTimeoutMs`). */
    idleTimeoutMs: number;
    /** Fresh attempts after an answer that fails validation even after its repair call (default 1). */
    contentRetries?: number;
    /** Price overrides per model from the config file (merged over the built-in table). */
    prices: Record<string, ModelPrice>;
    /** Structured-output mode of roles without their own (MAESTRO_OUTPUT_MODE, else the file's `llm.outputMode`). */
    outputMode?: OutputMode;
    /** Output-token parameter (the file's `llm.maxTokensParam`; unset: chosen by endpoint). */
    tokenParam?: TokenLimitParam;
  };
  /** The configuration file that was read, if any. */
  configFile?: string;
  /** The worker roles, resolved: every role has a model; own task queues have their names. */
  roles: RoleDefinition[];
  /** Webhooks every run started here notifies when a gate opens and when it ends (config file `notify`). */
  notify: string[];
  /**
   * MCP servers as this process's configuration defines them (every role's `mcpServers`): a worker
   * starts or calls only these; runs name them (see McpServerRef).
   */
  mcpServers: McpServerConfig[];
  /** URL prefixes of webhooks a run may name (`notifyAllow`); a worker also allows its own `notify` URLs. */
  notifyAllow: string[];
  /** Base URL of the Temporal Web UI for links in notifications (config file `webUiUrl`). */
  webUiUrl?: string;
  /** Runs on a git repository: the file's `repo` (test command, map token cap). */
  repo?: { testCommand?: string; mapTokens?: number };
  /** The Boss's model settings. */
  boss: {
    model: string;
    systemPrompt: string;
    temperature?: number;
    maxTokens?: number;
    outputMode?: OutputMode;
    reasoningEffort?: ReasoningEffort;
  };
}

/** Thrown for invalid configuration; the message lists every bad variable. */
/** Port of the embedded dev server: MAESTRO_TEMPORAL_PORT, default 7233. */
export function embeddedPort(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MAESTRO_TEMPORAL_PORT;
  if (raw === undefined || raw === '') return 7233;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) {
    throw new ConfigError(`MAESTRO_TEMPORAL_PORT: must be a port number from 1 to 65535; got "${raw}".`);
  }
  return n;
}

/**
 * The embedded dev server's Web UI port when MAESTRO_UI_PORT is unset: its gRPC port + 1000 (the
 * Temporal CLI's own rule, 7233 → 8233), so two side-by-side setups that set only
 * MAESTRO_TEMPORAL_PORT do not both want 8233.
 */
export function defaultUiPort(env: NodeJS.ProcessEnv = process.env): number {
  const port = embeddedPort(env) + 1000;
  return port <= 65535 ? port : 8233;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Default model when a real provider is configured (declared with the variables, config-env.ts). */
export { DEFAULT_MODEL };

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
  const problems: string[] = [];
  const tlsSettings = tlsSettingsFromEnv(e, problems);
  const encryption = encryptionKeysFromEnv(e, problems);
  if (tlsSettings && e.TEMPORAL_TLS === 'false')
    problems.push(
      '  TEMPORAL_TLS: is "false" but TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME are set; remove one or the other',
    );
  if (problems.length > 0)
    throw new ConfigError(
      `Invalid configuration:\n${problems.join('\n')}\nFix these environment variables and try again.`,
    );
  const azure = azureSettings(e);
  const simulated = !e.OPENAI_API_KEY && !e.OPENAI_BASE_URL && !azure;
  const workerModel = e.MAESTRO_MODEL ?? (simulated ? 'maestro-sim' : DEFAULT_MODEL);
  const taskQueue = e.MAESTRO_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  let file: { file: string; config: ConfigFile } | undefined;
  try {
    file = readConfigFile(e.MAESTRO_CONFIG, cwd);
    if (file) requireTrustedConfig(file.file, file.config, e.MAESTRO_TRUST_CONFIG, cwd);
  } catch (err) {
    if (err instanceof ConfigFileError || err instanceof UntrustedConfigError) throw new ConfigError(err.message);
    throw err;
  }
  const boss = file?.config.boss;
  const secrets = [e.MAESTRO_ENCRYPTION_KEY_FILE, e.TEMPORAL_TLS_KEY].flatMap((f) => (f ? [path.resolve(f)] : []));
  return {
    home: path.resolve(cwd, e.MAESTRO_HOME ?? '.maestro'),
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE ?? 'default',
      apiKey: e.TEMPORAL_API_KEY,
      tls:
        e.TEMPORAL_TLS === 'true' ||
        (e.TEMPORAL_TLS === undefined && (e.TEMPORAL_API_KEY !== undefined || tlsSettings !== undefined)),
      ...(tlsSettings ? { tlsSettings } : {}),
      taskQueue,
    },
    ...(encryption ? { encryption } : {}),
    ...(secrets.length > 0 ? { secretFiles: secrets } : {}),
    uiPort: e.MAESTRO_UI_PORT ?? defaultUiPort(env),
    ...(e.MAESTRO_LOG_LEVEL ? { logLevel: e.MAESTRO_LOG_LEVEL } : {}),
    simLatencyMs: e.MAESTRO_SIM_LATENCY_MS ?? DEFAULT_SIM_LATENCY_MS,
    llm: {
      apiKey: azure ? (e.AZURE_OPENAI_API_KEY ?? e.OPENAI_API_KEY) : e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      simulated,
      required: e.MAESTRO_REQUIRE_LLM === '1' || e.MAESTRO_REQUIRE_LLM === 'true',
      provider: azure ? 'azure' : 'openai',
      ...(azure ? { azure } : {}),
      workerModel,
      bossModel: e.MAESTRO_BOSS_MODEL ?? workerModel,
      timeoutMs: e.MAESTRO_LLM_TIMEOUT_MS ?? DEFAULT_LLM_TIMEOUT_MS,
      idleTimeoutMs: e.MAESTRO_LLM_IDLE_TIMEOUT_MS ?? file?.config.llm?.idleTimeoutMs ?? DEFAULT_LLM_IDLE_TIMEOUT_MS,
      ...(e.MAESTRO_LLM_CONTENT_RETRIES !== undefined ? { contentRetries: e.MAESTRO_LLM_CONTENT_RETRIES } : {}),
      prices: Object.fromEntries(
        Object.entries(file?.config.prices ?? {}).map(([m, p]) => [m, { ...p, cachedInput: p.cachedInput ?? p.input }]),
      ),
      ...optional('outputMode', e.MAESTRO_OUTPUT_MODE ?? file?.config.llm?.outputMode),
      ...optional('tokenParam', file?.config.llm?.maxTokensParam),
    },
    ...(file ? { configFile: file.file } : {}),
    roles: resolveRoles(file?.config.roles, workerModel, taskQueue),
    notify: file?.config.notify ?? [],
    mcpServers: mcpServersOf(file),
    notifyAllow: file?.config.notifyAllow ?? [],
    ...(file?.config.webUiUrl ? { webUiUrl: file.config.webUiUrl } : {}),
    ...(file?.config.repo ? { repo: file.config.repo } : {}),
    boss: {
      model: boss?.model ?? e.MAESTRO_BOSS_MODEL ?? workerModel,
      systemPrompt: boss?.systemPrompt ?? BOSS_SYSTEM_PROMPT,
      ...(boss?.temperature !== undefined ? { temperature: boss.temperature } : {}),
      ...(boss?.maxTokens !== undefined ? { maxTokens: boss.maxTokens } : {}),
      ...optional('outputMode', boss?.outputMode),
      ...optional('reasoningEffort', boss?.reasoningEffort),
    },
  };
}

/** Every MCP server the file defines, once each (config-file.ts refuses one name defined twice differently). */
function mcpServersOf(file: { config: ConfigFile } | undefined): McpServerConfig[] {
  const byName = new Map<string, McpServerConfig>();
  for (const role of file?.config.roles ?? []) for (const s of role.mcpServers ?? []) byName.set(s.name, s);
  return [...byName.values()];
}

/** `{ [key]: value }` when the value is set, else nothing (keeps unset keys out of objects). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Azure OpenAI is used when AZURE_OPENAI_ENDPOINT is set; checks the variables it needs. */
function azureSettings(e: z.infer<typeof EnvSchema>): { endpoint: string; apiVersion: string } | undefined {
  if (!e.AZURE_OPENAI_ENDPOINT) return undefined;
  const problems: string[] = [];
  if (e.OPENAI_BASE_URL)
    problems.push('  OPENAI_BASE_URL: must not be set together with AZURE_OPENAI_ENDPOINT (choose one provider)');
  if (!e.OPENAI_API_VERSION)
    problems.push('  OPENAI_API_VERSION: required with AZURE_OPENAI_ENDPOINT, e.g. 2024-10-21 (see the Azure docs)');
  if (!e.AZURE_OPENAI_API_KEY && !e.OPENAI_API_KEY)
    problems.push(
      '  AZURE_OPENAI_API_KEY: required with AZURE_OPENAI_ENDPOINT (the key of your Azure OpenAI resource)',
    );
  if (problems.length > 0)
    throw new ConfigError(
      `Invalid configuration:\n${problems.join('\n')}\nFix these environment variables and try again.`,
    );
  return { endpoint: e.AZURE_OPENAI_ENDPOINT.replace(/\/+$/, ''), apiVersion: e.OPENAI_API_VERSION! };
}

/**
 * The configured roles with everything filled in: built-in roles named in the file inherit what
 * the file leaves out; `taskQueue: true` becomes the conventional queue name of the role.
 */
function resolveRoles(fileRoles: ConfigFile['roles'], defaultModel: string, mainQueue: string): RoleDefinition[] {
  if (!fileRoles) return DEFAULT_ROLES.map((r) => ({ ...r, model: defaultModel }));
  return fileRoles.map((r) => {
    const base = DEFAULT_ROLES.find((d) => d.name === r.name);
    const {
      taskQueue,
      tools,
      maxTurns,
      maxToolCallsPerTurn,
      programs,
      sandbox,
      approvals,
      mcpServers,
      executor,
      ...rest
    } = r;
    const queue = taskQueue === true ? roleTaskQueue(r.name, mainQueue) : taskQueue || undefined;
    const agent: AgentSettings | undefined =
      (tools?.length ?? 0) + (mcpServers?.length ?? 0) > 0
        ? {
            tools: tools ?? [],
            ...(mcpServers ? { mcp: mcpServers.map(mcpServerRef) } : {}),
            ...(maxTurns !== undefined ? { maxTurns } : {}),
            ...(maxToolCallsPerTurn !== undefined ? { maxToolCallsPerTurn } : {}),
            ...(programs ? { programs } : {}),
            ...(sandbox ? { limits: sandbox } : {}),
            ...(approvals ? { approvals } : {}),
          }
        : undefined;
    return {
      ...base,
      ...rest,
      ...(agent ? { agent } : {}),
      ...(executor ? { executor: executorSettingsOf(executor, sandbox) } : {}),
      ...(executor?.command !== undefined
        ? { executorCommand: { command: executor.command, args: executor.args ?? [] } }
        : {}),
      description: r.description ?? base?.description ?? '',
      systemPrompt: r.systemPrompt ?? base?.systemPrompt ?? '',
      model: r.model ?? defaultModel,
      ...(queue ? { taskQueue: queue } : {}),
    };
  });
}

/** The roles a new run is given (name, description, own queue, retry), from the configuration. */
export function runRoles(config: MaestroConfig = loadConfig()): RoleInfo[] {
  return config.roles.map(roleInfoOf);
}
