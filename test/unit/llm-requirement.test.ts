/** MAESTRO_REQUIRE_LLM (docker-compose.yml's worker) and the worker healthcheck's reading of the metrics. */
import { ConfigError, loadConfig } from '../../src/config';
import { requireLlmProvider } from '../../src/workers/llm-requirement';
import { pollerCount } from '../../src/workers/worker-healthcheck';

describe('MAESTRO_REQUIRE_LLM', () => {
  it('refuses a worker on the simulated LLM when set, naming what to set', () => {
    const config = loadConfig({ MAESTRO_REQUIRE_LLM: '1' });
    expect(() => requireLlmProvider(config)).toThrow(ConfigError);
    expect(() => requireLlmProvider(config)).toThrow(/OPENAI_API_KEY[\s\S]*MAESTRO_REQUIRE_LLM=0/);
  });

  it('keeps the laptop default: unset or 0 means the simulated LLM without a key', () => {
    expect(() => requireLlmProvider(loadConfig({}))).not.toThrow();
    expect(() => requireLlmProvider(loadConfig({ MAESTRO_REQUIRE_LLM: '0' }))).not.toThrow();
  });

  it('is satisfied by any provider: a key, a base URL without a key, Azure', () => {
    for (const env of [
      { OPENAI_API_KEY: 'sk-x' },
      { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' },
      {
        AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com',
        AZURE_OPENAI_API_KEY: 'k',
        OPENAI_API_VERSION: '2024-10-21',
      },
    ])
      expect(() => requireLlmProvider(loadConfig({ MAESTRO_REQUIRE_LLM: 'true', ...env }))).not.toThrow();
  });

  it('refuses a value it does not know rather than guessing', () => {
    expect(() => loadConfig({ MAESTRO_REQUIRE_LLM: 'yes' })).toThrow(/MAESTRO_REQUIRE_LLM/);
  });
});

describe('worker healthcheck', () => {
  it('sums temporal_num_pollers over task types; no metric and zero pollers are not healthy', () => {
    const text = [
      '# TYPE temporal_num_pollers gauge',
      'temporal_num_pollers{namespace="default",poller_type="activity_task",task_queue="maestro"} 10',
      'temporal_num_pollers{namespace="default",poller_type="workflow_task",task_queue="maestro"} 2',
      'temporal_num_pollers_other 99',
    ].join('\n');
    expect(pollerCount(text)).toBe(12);
    expect(pollerCount('temporal_worker_start_total 1')).toBeUndefined();
    expect(pollerCount('temporal_num_pollers{poller_type="workflow_task"} 0')).toBe(0);
  });
});
