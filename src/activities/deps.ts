/** What activities need from the outside world; tests inject their own. */
import type { RoleDefinition } from '../shared/roles';
import type { McpServerConfig } from '../shared/tools';
import type { OutputMode, ReasoningEffort } from './llm/output-modes';
import type { RunArtifactsLookup } from './artifacts/export';
import type { ArtifactStore } from './artifacts/store';
import type { StructuredLlm } from './llm/structured';
import type { ToolLlm } from './llm/tool-turn';
import type { ExecutorDeps } from './executor/executor-deps';

/** Dependencies of all activities (built once per worker process). */
export interface ActivityDeps {
  llm: Pick<StructuredLlm, 'call'>;
  /** Tool-calling turns of agent loops (roles with tools); absent: such roles fail clearly. */
  agentLlm?: Pick<ToolLlm, 'turn'> & Partial<Pick<ToolLlm, 'lostCallBill'>>;
  /**
   * MCP servers this worker's own configuration defines; runs name them and cannot define them.
   * Absent: no MCP server can be used.
   */
  mcpServers?: readonly McpServerConfig[];
  /**
   * Webhooks this worker posts to: exact URLs and URL prefixes from its own configuration (and, for
   * `maestro run`'s own worker, the command's `--notify` URLs). Absent: none; runs cannot add any.
   */
  webhooks?: { urls: readonly string[]; prefixes: readonly string[] };
  /** Programs beyond the defaults that runs may let `run_command` start (this worker's roles' `programs`). */
  allowedPrograms?: readonly string[];
  /** Folders `run_command`'s sandbox hides (MAESTRO_HOME, the artifact store). */
  sandboxHide?: string[];
  store: ArtifactStore;
  /** What coding-agent CLI executors need (the LLM gateway...); absent: executor roles fail clearly. */
  executor?: ExecutorDeps;
  /** Which blobs a run recorded, for file exports (default: read from the run's history, run-artifacts.ts). */
  runArtifacts?: RunArtifactsLookup;
  /** Roles this worker can execute, with their prompts and model settings. */
  roles: readonly RoleDefinition[];
  bossSystemPrompt: string;
  bossModel: string;
  /** The Boss's sampling temperature and output-token limit (unset: the provider's defaults). */
  bossTemperature?: number;
  bossMaxTokens?: number;
  /** The Boss's structured-output mode and reasoning effort (unset: the provider's default). */
  bossOutputMode?: OutputMode;
  bossReasoningEffort?: ReasoningEffort;
  /** Model of a role that has no `model` of its own. */
  workerModel: (role: string) => string;
  /** Characters of each file the reviewer sees (more than dependents see: it judges the work). */
  reviewExcerptChars: number;
  /**
   * Fresh attempts after an answer that fails validation even after its repair call (default
   * DEFAULT_CONTENT_RETRIES). Planning makes none: the workflow re-plans with the problems.
   */
  contentRetries?: number;
}
