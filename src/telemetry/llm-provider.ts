/**
 * The GenAI provider name (`gen_ai.provider.name`) of this worker's LLM calls, for spans and
 * metrics: the configured client's flavour, as the OpenTelemetry GenAI conventions name it
 * ("openai" for any OpenAI-compatible server, "azure.ai.openai" for Azure OpenAI).
 */

let providerName = 'openai';

/** Sets the provider of this process's calls from the config's `llm.provider`. */
export function setLlmProvider(provider: 'openai' | 'azure' | undefined): void {
  providerName = provider === 'azure' ? 'azure.ai.openai' : 'openai';
}

/** The provider name of this process's calls. */
export function llmProviderName(): string {
  return providerName;
}
