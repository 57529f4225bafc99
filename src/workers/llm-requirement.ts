/**
 * A deployed worker must not answer runs with the simulated LLM because a key was forgotten: with
 * MAESTRO_REQUIRE_LLM=1 (docker-compose.yml sets it) a worker without a provider refuses to start
 * and says what to set. Without the flag the laptop default stays: no key, simulated answers.
 */
import { ConfigError, type MaestroConfig } from '../config';

/** Throws a ConfigError (exit code 2) when the configuration requires a provider and has none. */
export function requireLlmProvider(config: MaestroConfig): void {
  if (!config.llm.required || !config.llm.simulated) return;
  throw new ConfigError(
    'No LLM provider is configured, and MAESTRO_REQUIRE_LLM=1 forbids this worker to use the simulated LLM.\n' +
      '  Set OPENAI_API_KEY (with OPENAI_BASE_URL for another OpenAI-compatible endpoint), or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY,\n' +
      '  in the environment of the worker (for docker compose: in the shell that runs `docker compose up`).\n' +
      '  To try Maestro with its simulated LLM instead, set MAESTRO_REQUIRE_LLM=0.',
  );
}
