/**
 * `maestro.config.json`: the team (roles with their prompts, models, queues and retries), the Boss
 * and price overrides. Validated with zod so a typo stops the command with the key that is wrong,
 * instead of a run that fails halfway. Found through MAESTRO_CONFIG, else ./maestro.config.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TokenLimitParam } from './activities/llm/adaptations';
import { OutputMode, ReasoningEffort } from './activities/llm/output-modes';
import { BOSS_ROLE, DEFAULT_ROLES } from './shared/roles';
import { ExecutorConfig } from './shared/executor';
import { RoleName } from './shared/schemas';
import {
  BuiltInTool,
  DEFAULT_MAX_TURNS,
  MAX_TOOL_CALLS_PER_TURN,
  McpServerConfig,
  SandboxLimits,
  ToolApproval,
} from './shared/tools';

/** File name looked for in the working directory when MAESTRO_CONFIG is not set. */
export const CONFIG_FILE_NAME = 'maestro.config.json';

const BUILT_IN = DEFAULT_ROLES.map((r) => r.name);

const Retry = z
  .object({
    initialIntervalMs: z
      .number()
      .int()
      .min(1)
      .max(3_600_000)
      .optional()
      .meta({ description: 'wait before the first retry', default: 2000 }),
    backoffCoefficient: z
      .number()
      .min(1)
      .max(10)
      .optional()
      .meta({ description: 'factor the wait grows by per retry', default: 2 }),
    maximumIntervalMs: z
      .number()
      .int()
      .min(1)
      .max(86_400_000)
      .optional()
      .meta({ description: 'longest wait between retries', default: 60000 }),
    maximumAttempts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'attempts in all, the first included', default: 5 }),
  })
  .strict()
  .describe("retry policy of the role's work activity");

const ModelSettings = {
  model: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('the model (default: `MAESTRO_MODEL`; the Boss: `MAESTRO_BOSS_MODEL`)'),
  systemPrompt: z.string().trim().min(1).max(20_000).optional().describe('what the model is told about itself'),
  temperature: z.number().min(0).max(2).optional().describe("sampling temperature (default: the provider's)"),
  maxTokens: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe('output-token limit of one answer (default 8192; sent as `max_completion_tokens` or `max_tokens`)'),
  outputMode: OutputMode.optional().describe("structured-output mode (default: `llm.outputMode`, else the provider's)"),
  reasoningEffort: ReasoningEffort.optional().describe('sent as `reasoning_effort` (reasoning models only)'),
};

/** Provider-wide settings: the default structured-output mode and the output-token parameter. */
const LlmFileSettings = z
  .object({
    outputMode: OutputMode.optional().describe('default structured-output mode of every role and the Boss'),
    maxTokensParam: TokenLimitParam.optional().describe('the output-token parameter (default: chosen by endpoint)'),
    idleTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .optional()
      .describe('a streamed model call fails when the server sends no token for this long, in ms (default 60000)'),
  })
  .strict()
  .describe('provider-wide settings');

const FileRole = z
  .object({
    name: RoleName.describe(
      'lower-case and unique (`boss` is reserved); a built-in name inherits its description and prompt',
    ),
    description: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .describe('what the Boss reads when it assigns tickets (required for a new role)'),
    ...ModelSettings,
    taskQueue: z
      .union([
        z.boolean(),
        z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be a queue name of letters, digits, . _ - (or true)'),
      ])
      .optional()
      .describe(
        '`true` for `<MAESTRO_TASK_QUEUE>-role-<name>`, or a queue name: served by `maestro worker --roles <name>`',
      ),
    retry: Retry.optional(),
    /** Built-in tools: a role with tools works as an agent loop. */
    tools: z
      .array(BuiltInTool)
      .max(20)
      .optional()
      .describe('built-in tools; any tool or MCP server makes the role an agent'),
    maxTurns: z
      .number()
      .int()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'LLM turns per attempt of an agent', default: DEFAULT_MAX_TURNS }),
    /** Tool calls one turn may make; the calls past it are each answered with a tool error. */
    maxToolCallsPerTurn: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOOL_CALLS_PER_TURN)
      .optional()
      .describe('tool calls one turn may make; calls past it get a tool error'),
    /** Programs `run_command` may start. */
    programs: z
      .array(z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'must be a program name such as "node" (no paths)'))
      .max(50)
      .optional()
      .describe('programs `run_command` may start (names, no paths)'),
    sandbox: SandboxLimits.optional().describe(
      'limits of one `run_command` (or of the coding-agent CLI with `executor`)',
    ),
    /** Per tool: `always`, `first-use` or `never` (default) wait for a person's approval. */
    approvals: z
      .record(z.string().min(1).max(100), ToolApproval)
      .optional()
      .describe('per tool (`run_command`, or `<server>__<tool>`): which calls wait for a person (default `never`)'),
    /** MCP servers (stdio command or streamable HTTP URL) whose tools the role's agent may call. */
    mcpServers: z
      .array(McpServerConfig)
      .max(10)
      .optional()
      .describe('MCP servers (stdio `command` or streamable HTTP `url`) whose tools the agent may call'),
    /** A coding-agent CLI works this role's tickets (`custom` commands need --trust-config). */
    executor: ExecutorConfig.optional().describe(
      "a coding-agent CLI works the role's tickets (`custom` needs --trust-config)",
    ),
  })
  .strict();

const Price = z
  .object({
    input: z.number().min(0).describe('USD per million input tokens'),
    cachedInput: z.number().min(0).optional().describe('USD per million cached input tokens (default: `input`)'),
    output: z.number().min(0).describe('USD per million output tokens'),
  })
  .strict();

/** The schema of maestro.config.json (exported for the generated reference, docs/reference/configuration.md). */
export const ConfigFileSchema = z
  .object({
    $schema: z.string().optional().describe('ignored (for editors)'),
    roles: z
      .array(FileRole)
      .min(1, 'must list at least one role')
      .max(50)
      .optional()
      .describe('the team, replacing the built-in roles; the Boss assigns only these'),
    boss: z.object(ModelSettings).strict().optional().describe("the Boss's model settings"),
    llm: LlmFileSettings.optional(),
    prices: z
      .record(z.string().min(1), Price)
      .optional()
      .describe('per model name, over the built-in price table (unknown models cost 0)'),
    notify: z
      .array(z.url({ protocol: /^https?$/, message: 'must be an http(s) webhook URL' }))
      .max(20)
      .optional()
      .describe('webhooks every run started with this file notifies when a gate opens and when it ends'),
    /** URL prefixes of webhooks that runs may name with `--notify` (checked by this file's workers). */
    notifyAllow: z
      .array(z.url({ protocol: /^https?$/, message: 'must be an http(s) URL prefix such as https://hooks.slack.com/' }))
      .max(50)
      .optional()
      .describe('URL prefixes of webhooks that runs may name with `--notify`'),
    webUiUrl: z
      .url({ protocol: /^https?$/, message: 'must be the http(s) URL of the Temporal Web UI' })
      .optional()
      .describe('base URL of the Temporal Web UI, for links in notifications'),
    /** Runs on a git repository (`--repo`): the test command (else detected) and the map's token cap. */
    repo: z
      .object({
        testCommand: z
          .string()
          .trim()
          .min(1)
          .max(500)
          .regex(/^[^\0-\x1f\x7f]*$/, 'must be one line')
          .optional()
          .describe("the repository's test command (default: detected)"),
        mapTokens: z
          .number()
          .int()
          .min(500)
          .max(100_000)
          .optional()
          .meta({ description: 'token cap of the repository map', default: 4000 }),
      })
      .strict()
      .optional()
      .describe('runs on a git repository (`--repo`)'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    const servers = new Map<string, string>();
    (file.roles ?? []).forEach((role, i) =>
      (role.mcpServers ?? []).forEach((server, j) => {
        const { approval: _approval, ...definition } = server;
        const text = JSON.stringify(definition);
        if (servers.has(server.name) && servers.get(server.name) !== text)
          ctx.addIssue({
            code: 'custom',
            path: ['roles', i, 'mcpServers', j, 'name'],
            message: `MCP server "${server.name}" is defined differently by another role; give it another name or the same definition`,
          });
        servers.set(server.name, text);
      }),
    );
    (file.roles ?? []).forEach((role, i) => {
      if (role.name === BOSS_ROLE)
        ctx.addIssue({
          code: 'custom',
          path: ['roles', i, 'name'],
          message: '"boss" is reserved: configure it under "boss"',
        });
      if (seen.has(role.name))
        ctx.addIssue({ code: 'custom', path: ['roles', i, 'name'], message: `role "${role.name}" is listed twice` });
      seen.add(role.name);
      if (role.executor && (role.tools?.length || role.mcpServers?.length))
        ctx.addIssue({
          code: 'custom',
          path: ['roles', i, 'executor'],
          message:
            'a role works either with Maestro\'s tools ("tools", "mcpServers") or with a coding-agent CLI ("executor"), not both',
        });
      for (const key of ['maxTurns', 'maxToolCallsPerTurn', 'programs', 'sandbox', 'approvals'] as const) {
        if (key === 'sandbox' && role.executor) continue; // the CLI's sandbox limits
        if (role[key] !== undefined && !role.tools?.length && !role.mcpServers?.length)
          ctx.addIssue({
            code: 'custom',
            path: ['roles', i, key],
            message: 'only applies to a role with "tools" or "mcpServers"',
          });
      }
      for (const tool of Object.keys(role.approvals ?? {})) {
        if (!(role.tools ?? []).some((t) => t === tool) && !tool.includes('__'))
          ctx.addIssue({
            code: 'custom',
            path: ['roles', i, 'approvals', tool],
            message: `"${tool}" is not one of this role's tools (${(role.tools ?? []).join(', ')}); MCP tools are named <server>__<tool>`,
          });
      }
      if (BUILT_IN.includes(role.name)) return;
      for (const key of ['description', 'systemPrompt'] as const) {
        if (role[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['roles', i, key],
            message: `required for a role that is not built in (built in: ${BUILT_IN.join(', ')})`,
          });
      }
    });
  });

/** The file as written (validated, not yet resolved against the environment). */
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** Why a configuration file was refused; the message names each bad key (config.ts rethrows it as ConfigError). */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

function keyPath(parts: readonly PropertyKey[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** Which file to read: MAESTRO_CONFIG (must exist), else ./maestro.config.json when present. */
export function configFilePath(explicit: string | undefined, cwd: string): string | undefined {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file))
      throw new ConfigFileError(`MAESTRO_CONFIG: no such file ${file}; fix the path or unset MAESTRO_CONFIG`);
    return file;
  }
  const local = path.join(cwd, CONFIG_FILE_NAME);
  return existsSync(local) ? local : undefined;
}

/** Parses and validates the text of a configuration file; errors name each bad key. */
export function parseConfigFile(text: string, file: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${keyPath(i.path) || '(top level)'}: ${i.message}`);
  throw new ConfigFileError(`Invalid configuration file ${file}:\n${lines.join('\n')}\nFix these keys and try again.`);
}

/** Reads the configuration file, if any; undefined when there is none. */
export function readConfigFile(
  explicit: string | undefined,
  cwd: string,
): { file: string; config: ConfigFile } | undefined {
  const file = configFilePath(explicit, cwd);
  if (!file) return undefined;
  return { file, config: parseConfigFile(readFileSync(file, 'utf8'), file) };
}
