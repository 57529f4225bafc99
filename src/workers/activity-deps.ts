/** Builds the activities' dependencies from configuration, for worker processes. */
import { startGateway } from '../gateway';
import path from 'node:path';
import type { ActivityDeps } from '../activities';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { llmSettingsOf } from '../activities/llm/settings-of';
import { StructuredLlm } from '../activities/llm/structured';
import { ToolLlm } from '../activities/llm/tool-turn';
import type { MaestroConfig } from '../config';
import type { RoleDefinition } from '../shared/roles';
import { REVIEW_EXCERPT_CHARS } from '../shared/constants';

/** Where the filesystem artifact store lives under MAESTRO_HOME. */
export function artifactRoot(home: string): string {
  return path.join(home, 'artifacts');
}

/**
 * Activity dependencies for `config`: the configured roles with their models, temperatures,
 * output limits and prompts, and the Boss's. `llmBaseUrl` overrides the provider (simulated LLM);
 * `roles` narrows the roles (a worker for some roles only).
 */
export function activityDepsFromConfig(
  config: MaestroConfig,
  llmBaseUrl?: string,
  roles: readonly RoleDefinition[] = config.roles,
  /** Webhook URLs the person gave this process's command (`maestro run --notify`), allowed too. */
  ownWebhooks: readonly string[] = [],
): ActivityDeps {
  const settings = llmSettingsOf(config, llmBaseUrl);
  return {
    llm: new StructuredLlm(settings),
    agentLlm: new ToolLlm(settings),
    sandboxHide: [config.home, ...(config.secretFiles ?? [])],
    mcpServers: config.mcpServers,
    allowedPrograms: [...new Set(config.roles.flatMap((r) => r.agent?.programs ?? []))],
    webhooks: { urls: [...config.notify, ...ownWebhooks], prefixes: config.notifyAllow },
    store: new FsArtifactStore(artifactRoot(config.home)),
    roles,
    bossSystemPrompt: config.boss.systemPrompt,
    bossModel: config.boss.model,
    ...(config.boss.temperature !== undefined ? { bossTemperature: config.boss.temperature } : {}),
    ...(config.boss.maxTokens !== undefined ? { bossMaxTokens: config.boss.maxTokens } : {}),
    ...(config.boss.outputMode ? { bossOutputMode: config.boss.outputMode } : {}),
    ...(config.boss.reasoningEffort ? { bossReasoningEffort: config.boss.reasoningEffort } : {}),
    workerModel: (name) => roles.find((r) => r.name === name)?.model ?? config.llm.workerModel,
    reviewExcerptChars: REVIEW_EXCERPT_CHARS,
    // Coding-agent CLIs reach the role's provider only through a gateway started per attempt.
    executor: { startGateway, llm: settings, maestroHome: config.home },
    ...(config.llm.contentRetries !== undefined ? { contentRetries: config.llm.contentRetries } : {}),
  };
}
