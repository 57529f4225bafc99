import { costOf, priceFor } from '../../src/activities/llm/pricing';
import { ConfigError, loadConfig } from '../../src/config';
import { retryAfterMs } from '../../src/activities/llm/errors';

describe('pricing', () => {
  it('bills cached prompt tokens at the cached rate', () => {
    // gpt-4.1-mini: 0.40 in, 0.10 cached, 1.60 out per million
    expect(costOf('gpt-4.1-mini', { promptTokens: 1_000_000, cachedTokens: 0, completionTokens: 0 })).toBeCloseTo(0.4);
    expect(
      costOf('gpt-4.1-mini', { promptTokens: 1_000_000, cachedTokens: 500_000, completionTokens: 1_000_000 }),
    ).toBeCloseTo(0.2 + 0.05 + 1.6);
  });

  it('prices dated snapshots like their base model, unknown models at zero', () => {
    expect(priceFor('gpt-4o-mini-2024-07-18')).toEqual(priceFor('gpt-4o-mini'));
    expect(costOf('my-local-llama', { promptTokens: 1000, cachedTokens: 0, completionTokens: 1000 })).toBe(0);
  });
});

describe('config', () => {
  it('uses the simulated LLM when neither key nor base URL is set', () => {
    const c = loadConfig({}, '/tmp/project');
    expect(c.llm.simulated).toBe(true);
    expect(c.llm.workerModel).toBe('maestro-sim');
    expect(c.home).toBe('/tmp/project/.maestro');
    expect(c.temporal.address).toBeUndefined();
  });

  it('uses a real provider when a key is set', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'sk-x', MAESTRO_MODEL: 'gpt-4o' }, '/tmp');
    expect(c.llm.simulated).toBe(false);
    expect(c.llm.bossModel).toBe('gpt-4o');
  });

  it('names every bad variable and what a valid value looks like', () => {
    let err: unknown;
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'http://x', OPENAI_BASE_URL: 'not a url', MAESTRO_UI_PORT: '99999' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('TEMPORAL_ADDRESS: must be host:port');
    expect(msg).toContain('OPENAI_BASE_URL: must be a URL');
    expect(msg).toContain('MAESTRO_UI_PORT');
  });
});

describe('retry-after', () => {
  it('prefers retry-after-ms, then retry-after seconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
  });
});
