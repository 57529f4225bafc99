/**
 * The provider settings of a configuration, built in one place for the worker's LLM clients, the
 * gateway of its coding-agent CLIs and `maestro doctor`'s checks, so all three call the same
 * provider the same way.
 */
import type { MaestroConfig } from '../../config';
import { priceTable } from './pricing';
import type { LlmSettings } from './structured';

/** `config.llm` as LlmSettings; with `simulatedBaseUrl`, the simulated LLM there (OpenAI wire, no Azure). */
export function llmSettingsOf(config: MaestroConfig, simulatedBaseUrl?: string): LlmSettings {
  const simulated = simulatedBaseUrl !== undefined;
  return {
    provider: simulated ? 'openai' : config.llm.provider,
    baseUrl: simulatedBaseUrl ?? config.llm.baseUrl,
    apiKey: config.llm.apiKey,
    ...(!simulated && config.llm.azure ? { azure: config.llm.azure } : {}),
    timeoutMs: config.llm.timeoutMs,
    idleTimeoutMs: config.llm.idleTimeoutMs,
    prices: priceTable(config.llm.prices),
    ...(config.llm.outputMode ? { outputMode: config.llm.outputMode } : {}),
    ...(config.llm.tokenParam ? { tokenParam: config.llm.tokenParam } : {}),
  };
}
