/**
 * maestro.config.json and the provider variables: defaults, per-role settings, the Boss, price
 * overrides, Azure, and errors that name the key or variable that is wrong.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AzureOpenAI } from 'openai';
import { createOpenAiClient } from '../../src/activities/llm/client';
import { costOf, priceTable } from '../../src/activities/llm/pricing';
import { ConfigError, loadConfig, runRoles, type MaestroConfig } from '../../src/config';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../../src/shared/roles';
import { planWorkers } from '../../src/workers/role-queues';

function dirWith(config: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-config-'));
  writeFileSync(path.join(dir, 'maestro.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const emptyDir = () => mkdtempSync(path.join(os.tmpdir(), 'maestro-empty-'));

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('maestro.config.json', () => {
  it('without a file: the built-in roles and Boss, on the default model', () => {
    const c = loadConfig({ OPENAI_API_KEY: 'k' }, emptyDir());
    expect(c.configFile).toBeUndefined();
    expect(c.roles.map((r) => r.name)).toEqual(DEFAULT_ROLES.map((r) => r.name));
    expect(c.roles.every((r) => r.model === 'gpt-4.1-mini' && r.taskQueue === undefined)).toBe(true);
    expect(c.boss).toEqual({ model: 'gpt-4.1-mini', systemPrompt: BOSS_SYSTEM_PROMPT });
  });

  it('reads ./maestro.config.json: per-role settings, inherited built-in texts, the Boss and prices', () => {
    const dir = dirWith({
      roles: [
        { name: 'coder', model: 'gpt-4.1', temperature: 0.2, maxTokens: 8000, taskQueue: true },
        {
          name: 'analyst',
          description: 'Data analysis',
          systemPrompt: 'You are the Analyst.',
          taskQueue: 'gpu-analysts',
          retry: { initialIntervalMs: 500, maximumAttempts: 3 },
        },
      ],
      boss: { model: 'gpt-5', temperature: 0 },
      prices: { 'my-llama': { input: 0.1, output: 0.2 } },
    });
    const c = loadConfig({ OPENAI_API_KEY: 'k', MAESTRO_MODEL: 'gpt-4o-mini' }, dir);
    expect(c.configFile).toBe(path.join(dir, 'maestro.config.json'));
    const [coder, analyst] = c.roles;
    expect(coder).toMatchObject({ name: 'coder', model: 'gpt-4.1', temperature: 0.2, maxTokens: 8000 });
    expect(coder!.taskQueue).toBe('maestro-role-coder');
    expect(coder!.systemPrompt).toBe(DEFAULT_ROLES.find((r) => r.name === 'coder')!.systemPrompt);
    expect(analyst).toMatchObject({ model: 'gpt-4o-mini', taskQueue: 'gpu-analysts', retry: { maximumAttempts: 3 } });
    expect(c.boss).toMatchObject({ model: 'gpt-5', temperature: 0, systemPrompt: BOSS_SYSTEM_PROMPT });
    expect(c.llm.prices['my-llama']).toEqual({ input: 0.1, cachedInput: 0.1, output: 0.2 });
    const tokens = { promptTokens: 1e6, cachedTokens: 0, completionTokens: 1e6 };
    expect(costOf('my-llama', tokens, priceTable(c.llm.prices))).toBeCloseTo(0.3);
    expect(costOf('gpt-4.1', tokens, priceTable(c.llm.prices))).toBeCloseTo(10);
    // What a run is given: names, descriptions, queues, retries and the model as a label; no prompts.
    expect(runRoles(c)).toEqual([
      { name: 'coder', description: coder!.description, taskQueue: 'maestro-role-coder', model: 'gpt-4.1' },
      {
        name: 'analyst',
        description: 'Data analysis',
        model: 'gpt-4o-mini',
        taskQueue: 'gpu-analysts',
        retry: { initialIntervalMs: 500, maximumAttempts: 3 },
      },
    ]);
  });

  it('names role queues after MAESTRO_TASK_QUEUE, so deployments never share one', () => {
    const dir = dirWith({ roles: [{ name: 'coder', taskQueue: true }] });
    expect(loadConfig({ MAESTRO_TASK_QUEUE: 'team-a' }, dir).roles[0]!.taskQueue).toBe('team-a-role-coder');
  });

  it('finds the file through MAESTRO_CONFIG, and says so when it is missing', () => {
    const dir = dirWith({ roles: [{ name: 'writer' }] });
    const c = loadConfig({ MAESTRO_CONFIG: path.join(dir, 'maestro.config.json') }, emptyDir());
    expect(c.roles.map((r) => r.name)).toEqual(['writer']);
    const msg = configError(() => loadConfig({ MAESTRO_CONFIG: 'nope.json' }, dir));
    expect(msg).toContain(`MAESTRO_CONFIG: no such file ${path.join(dir, 'nope.json')}`);
  });

  it('names every bad key and what is wrong with it', () => {
    const dir = dirWith({
      roles: [
        { name: 'coder', temperature: 3, temprature: 1 },
        { name: 'analyst' },
        { name: 'coder' },
        { name: 'boss', description: 'x', systemPrompt: 'y' },
        { name: 'Bad Name' },
      ],
      boss: { maxTokens: 0 },
      prices: { x: { input: -1, output: 1 } },
    });
    const msg = configError(() => loadConfig({}, dir));
    expect(msg).toContain(`Invalid configuration file ${path.join(dir, 'maestro.config.json')}`);
    expect(msg).toMatch(/roles\[0\]\.temperature: .*2/);
    expect(msg).toMatch(/roles\[0\]: Unrecognized key.*temprature/);
    expect(msg).toContain('roles[1].description: required for a role that is not built in');
    expect(msg).toContain('roles[1].systemPrompt: required');
    expect(msg).toContain('roles[2].name: role "coder" is listed twice');
    expect(msg).toContain('roles[3].name: "boss" is reserved');
    expect(msg).toContain('roles[4].name: role names are lower-case words');
    expect(msg).toMatch(/boss\.maxTokens: /);
    expect(msg).toMatch(/prices\.x\.input: /);
  });

  it.each(['0', '-1', '1e20', 'abc', '60s', '1.5', 'Infinity', 'NaN', '999'])(
    'refuses MAESTRO_LLM_IDLE_TIMEOUT_MS=%s, naming the setting',
    (value) => {
      expect(configError(() => loadConfig({ MAESTRO_LLM_IDLE_TIMEOUT_MS: value }, emptyDir()))).toMatch(
        /MAESTRO_LLM_IDLE_TIMEOUT_MS/,
      );
    },
  );

  it.each([0, -1, 1e20, 'abc', '60s', '60000', 1.5, null, true])(
    'refuses llm.idleTimeoutMs %p in the config file, naming the key',
    (value) => {
      expect(configError(() => loadConfig({}, dirWith({ llm: { idleTimeoutMs: value } })))).toMatch(
        /llm\.idleTimeoutMs/,
      );
    },
  );

  it("the idle timeout of streamed calls: 60 s by default, the file's llm.idleTimeoutMs, the environment over both", () => {
    expect(loadConfig({}, emptyDir()).llm.idleTimeoutMs).toBe(60_000);
    const dir = dirWith({ llm: { idleTimeoutMs: 15_000 } });
    expect(loadConfig({}, dir).llm.idleTimeoutMs).toBe(15_000);
    expect(loadConfig({ MAESTRO_LLM_IDLE_TIMEOUT_MS: '5000' }, dir).llm.idleTimeoutMs).toBe(5_000);
    expect(configError(() => loadConfig({}, dirWith({ llm: { idleTimeoutMs: 10 } })))).toMatch(/llm\.idleTimeoutMs: /);
    expect(configError(() => loadConfig({ MAESTRO_LLM_IDLE_TIMEOUT_MS: 'soon' }, emptyDir()))).toMatch(
      /MAESTRO_LLM_IDLE_TIMEOUT_MS/,
    );
  });

  it('accepts the shipped maestro.config.example.json', () => {
    const example = path.resolve(__dirname, '..', '..', 'maestro.config.example.json');
    const c = loadConfig({ OPENAI_API_KEY: 'k', MAESTRO_CONFIG: example }, emptyDir());
    expect(c.roles.map((r) => r.name)).toEqual(['designer', 'writer', 'coder', 'tester', 'translator']);
    expect(c.roles.find((r) => r.name === 'coder')?.taskQueue).toBe('maestro-role-coder');
  });

  it('says when the file is not JSON', () => {
    expect(configError(() => loadConfig({}, dirWith('{ roles: [')))).toMatch(/maestro\.config\.json: not valid JSON/);
  });
});

describe('providers', () => {
  it('Azure OpenAI: needs the API version and a key, and excludes OPENAI_BASE_URL', () => {
    const base = { AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com/' };
    const msg = configError(() => loadConfig({ ...base, OPENAI_BASE_URL: 'http://localhost:1/v1' }, emptyDir()));
    expect(msg).toContain('OPENAI_BASE_URL: must not be set together with AZURE_OPENAI_ENDPOINT');
    expect(msg).toContain('OPENAI_API_VERSION: required with AZURE_OPENAI_ENDPOINT');
    expect(msg).toContain('AZURE_OPENAI_API_KEY: required with AZURE_OPENAI_ENDPOINT');
    const c = loadConfig(
      { ...base, OPENAI_API_VERSION: '2024-10-21', AZURE_OPENAI_API_KEY: 'az', MAESTRO_MODEL: 'my-deployment' },
      emptyDir(),
    );
    expect(c.llm).toMatchObject({ provider: 'azure', simulated: false, apiKey: 'az' });
    expect(c.llm.azure).toEqual({ endpoint: 'https://res.openai.azure.com', apiVersion: '2024-10-21' });
    const client = createOpenAiClient({ ...c.llm, timeoutMs: 1000 });
    expect(client).toBeInstanceOf(AzureOpenAI);
    expect(client.baseURL).toBe('https://res.openai.azure.com/openai');
    expect((client as AzureOpenAI).apiVersion).toBe('2024-10-21');
    expect(client.maxRetries).toBe(0);
  });

  it('any OpenAI-compatible server: base URL, no retries in the client, the HTTP timeout', () => {
    const c = loadConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1', MAESTRO_LLM_TIMEOUT_MS: '5000' }, emptyDir());
    expect(c.llm).toMatchObject({ provider: 'openai', simulated: false, timeoutMs: 5000 });
    const client = createOpenAiClient(c.llm);
    expect(client.baseURL).toBe('http://localhost:11434/v1');
    expect(client.maxRetries).toBe(0);
    expect(client.timeout).toBe(5000);
  });

  it('rejects a bad Azure endpoint by name', () => {
    expect(configError(() => loadConfig({ AZURE_OPENAI_ENDPOINT: 'res.azure' }, emptyDir()))).toContain(
      'AZURE_OPENAI_ENDPOINT: must be a URL',
    );
  });
});

describe('worker queues', () => {
  const config = (): MaestroConfig =>
    loadConfig(
      { MAESTRO_TASK_QUEUE: 'q' },
      dirWith({ roles: [{ name: 'writer' }, { name: 'coder', taskQueue: true }] }),
    );

  it('plain worker: the main queue with every role; run/dev: also each role queue', () => {
    expect(planWorkers(config(), 'main').map((w) => [w.kind, w.taskQueue])).toEqual([['main', 'q']]);
    const all = planWorkers(config(), 'all');
    expect(all.map((w) => [w.kind, w.taskQueue, w.roles.map((r) => r.name)])).toEqual([
      ['main', 'q', ['writer', 'coder']],
      ['roles', 'q-role-coder', ['coder']],
    ]);
  });

  it('--roles: only those roles, each on its own queue; unknown or queue-less roles are refused', () => {
    expect(planWorkers(config(), { roles: ['coder'] }).map((w) => [w.kind, w.taskQueue])).toEqual([
      ['roles', 'q-role-coder'],
    ]);
    expect(() => planWorkers(config(), { roles: ['painter'] })).toThrow(
      '--roles: unknown role "painter"; configured roles: writer, coder',
    );
    expect(() => planWorkers(config(), { roles: ['writer'] })).toThrow('role "writer" has no task queue of its own');
  });
});

describe('structured-output and reasoning settings', () => {
  it('reads the mode and reasoning effort per role and for the Boss, and the provider-wide defaults', () => {
    const dir = dirWith({
      roles: [{ name: 'coder', outputMode: 'tool', reasoningEffort: 'high' }, { name: 'writer' }],
      boss: { outputMode: 'json_object', reasoningEffort: 'low' },
      llm: { outputMode: 'text', maxTokensParam: 'max_completion_tokens' },
    });
    const c = loadConfig({ OPENAI_API_KEY: 'k' }, dir);
    expect(c.roles[0]).toMatchObject({ name: 'coder', outputMode: 'tool', reasoningEffort: 'high' });
    expect(c.roles[1]!.outputMode).toBeUndefined();
    expect(c.boss).toMatchObject({ outputMode: 'json_object', reasoningEffort: 'low' });
    expect(c.llm).toMatchObject({ outputMode: 'text', tokenParam: 'max_completion_tokens' });
    // The environment variable wins over the file's provider-wide mode.
    expect(loadConfig({ OPENAI_API_KEY: 'k', MAESTRO_OUTPUT_MODE: 'json_object' }, dir).llm.outputMode).toBe(
      'json_object',
    );
  });

  it('names a bad mode or effort and the valid values', () => {
    const file = configError(() =>
      loadConfig(
        { OPENAI_API_KEY: 'k' },
        dirWith({ roles: [{ name: 'coder', outputMode: 'xml', reasoningEffort: 'max' }] }),
      ),
    );
    expect(file).toContain('roles[0].outputMode');
    expect(file).toContain('"json_schema"');
    expect(file).toContain('roles[0].reasoningEffort');
    const env = configError(() => loadConfig({ OPENAI_API_KEY: 'k', MAESTRO_OUTPUT_MODE: 'grammar' }, emptyDir()));
    expect(env).toContain('MAESTRO_OUTPUT_MODE');
  });
});
