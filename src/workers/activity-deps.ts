/** Builds the activities' dependencies from configuration, for worker processes. */
import path from 'node:path';
import type { ActivityDeps } from '../activities';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { StructuredLlm } from '../activities/llm/structured';
import type { MaestroConfig } from '../config';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../shared/roles';

/** Where the filesystem artifact store lives under MAESTRO_HOME. */
export function artifactRoot(home: string): string {
  return path.join(home, 'artifacts');
}

/** Activity dependencies for `config`; `llmBaseUrl` overrides the configured URL (simulated LLM). */
export function activityDepsFromConfig(config: MaestroConfig, llmBaseUrl?: string): ActivityDeps {
  return {
    llm: new StructuredLlm({
      baseUrl: llmBaseUrl ?? config.llm.baseUrl,
      apiKey: config.llm.apiKey,
      timeoutMs: config.llm.timeoutMs,
    }),
    store: new FsArtifactStore(artifactRoot(config.home)),
    roles: DEFAULT_ROLES,
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    bossModel: config.llm.bossModel,
    workerModel: () => config.llm.workerModel,
    reviewExcerptChars: 6000,
  };
}
