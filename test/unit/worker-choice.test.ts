/**
 * Who runs a `maestro run` when workers already poll the queue: the LLM fingerprint workers put
 * into their identity, and the decision (use them / private queue) with what the person is told.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { chooseWorker, startedRunNotice } from '../../src/dev/worker-choice';
import { llmFingerprint, llmSettingsOf, parseWorkerIdentity, workerIdentity } from '../../src/workers/llm-fingerprint';

const cwd = mkdtempSync(path.join(os.tmpdir(), 'maestro-choice-'));
const config = (env: NodeJS.ProcessEnv) => loadConfig({ MAESTRO_HOME: '/homes/a', ...env }, cwd);
const local = config({ OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1', MAESTRO_MODEL: 'qwen' });
const poller = (c = local) => ({ identity: workerIdentity(c) });

describe('llm fingerprint', () => {
  test('depends on endpoint and models, never on the key; the identity carries it and the home', () => {
    const fp = (env: NodeJS.ProcessEnv) => llmFingerprint(llmSettingsOf(config(env)));
    const base = { OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1/', MAESTRO_MODEL: 'qwen' };
    expect(fp(base)).toBe(fp({ ...base, OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1', OPENAI_API_KEY: 'other' }));
    expect(fp(base)).not.toBe(fp({ ...base, OPENAI_BASE_URL: 'http://127.0.0.1:9090/v1' }));
    expect(fp(base)).not.toBe(fp({ ...base, MAESTRO_BOSS_MODEL: 'bigger' }));
    expect(fp({})).toBe(fp({ MAESTRO_HOME: '/elsewhere' }));
    const id = workerIdentity(local);
    expect(id).toMatch(
      /^\d+@\S+ maestro\[llm=[0-9a-f]{12}; openai http:\/\/127\.0\.0\.1:8080\/v1, boss qwen, workers qwen; home=\/homes\/a\]$/,
    );
    expect(parseWorkerIdentity(id).fingerprint).toBe(llmFingerprint(llmSettingsOf(local)));
    expect(parseWorkerIdentity('4242@somehost')).toEqual({});
  });
});

describe('chooseWorker', () => {
  test('nobody polls: start workers here, say nothing', () => {
    expect(chooseWorker(local, [])).toEqual({ kind: 'start' });
  });

  test('the pollers have the caller settings: use them and name them', () => {
    const other = poller(
      config({ OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1', MAESTRO_MODEL: 'qwen', MAESTRO_HOME: '/b' }),
    );
    const choice = chooseWorker(local, [poller(), other]);
    expect(choice.kind).toBe('use');
    expect(choice.kind !== 'start' && choice.notice).toMatch(
      /which use your LLM settings \(openai http:\/\/127.0.0.1:8080\/v1, boss qwen, workers qwen\): \d+@/,
    );
  });

  test('a caller without LLM settings uses the running workers, told whose settings', () => {
    const choice = chooseWorker(config({}), [poller()]);
    expect(choice.kind).toBe('use');
    expect(choice.kind !== 'start' && choice.notice).toMatch(
      /sets no LLM provider.*THEIR LLM settings and MAESTRO_HOME: .*openai http:\/\/127\.0\.0\.1:8080\/v1.*home=\/homes\/a/,
    );
  });

  test('a caller with other settings gets a private queue whose roles all run on it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-choice-roles-'));
    writeFileSync(
      path.join(dir, 'maestro.config.json'),
      JSON.stringify({ roles: [{ name: 'coder', taskQueue: true }, { name: 'writer' }] }),
    );
    const mine = loadConfig({ OPENAI_API_KEY: 'sk-x', MAESTRO_HOME: '/homes/c' }, dir);
    expect(mine.roles.find((r) => r.name === 'coder')?.taskQueue).toBe('maestro-role-coder');
    for (const pollers of [[poller()], [{ identity: '4242@legacy-host' }], [poller(mine), poller()]]) {
      const choice = chooseWorker(mine, pollers);
      if (choice.kind !== 'private') throw new Error(`expected a private queue, got ${choice.kind}`);
      expect(choice.config.temporal.taskQueue).toMatch(/^maestro-run-[0-9a-f]{8}$/);
      expect(choice.config.roles.every((r) => r.taskQueue === undefined)).toBe(true);
      expect(choice.notice).toContain(`This run uses yours (openai https://api.openai.com/v1, boss gpt-4.1-mini`);
      expect(choice.notice).toContain(`MAESTRO_TASK_QUEUE=${choice.config.temporal.taskQueue} maestro worker`);
    }
    const legacy = chooseWorker(mine, [{ identity: '4242@legacy-host' }]);
    expect(legacy.kind === 'private' && legacy.notice).toContain(
      '4242@legacy-host (does not advertise its LLM settings)',
    );
  });
});

describe('startedRunNotice (maestro start)', () => {
  test('names the workers and whether they use the caller settings, or says nobody polls', () => {
    expect(startedRunNotice(local, [])).toMatch(/No worker polls task queue maestro yet: the run waits/);
    const text = startedRunNotice(config({}), [poller(), { identity: '4242@legacy-host' }]);
    expect(text).toMatch(
      /^The run goes to the worker\(s\) polling task queue maestro: \d+@\S+ maestro\[llm=.*\] \(other LLM settings than yours\), 4242@legacy-host \(does not advertise its LLM settings\)\.$/,
    );
    expect(startedRunNotice(local, [poller()])).toBeUndefined();
  });
});
