/**
 * The generated reference pages (docs/reference/*.md) are the ones the code generates today, and
 * the defaults they state are the ones the code applies.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { EnvSchema, INTERNAL_ENV_VARIABLES, OTHER_ENV_VARIABLES } from '../../src/config-env';
import { DEFAULT_CONTENT_RETRIES } from '../../src/activities/context';
import { DEFAULT_MAP_TOKENS } from '../../src/activities/repo/repo-map';
import { DEFAULT_SANDBOX_LIMITS } from '../../src/activities/tools/sandbox';
import { LLM_ACTIVITY } from '../../src/workflows/activity-options';
import { configJsonSchema } from '../../src/dev/docs-reference/configuration';
import { envRows } from '../../src/dev/docs-reference/environment';
import { referencePages } from '../../src/dev/docs-reference/pages';
import { stalePages } from '../../src/dev/docs-reference/main';
import { cell, code, prose } from '../../src/dev/docs-reference/markdown';

const ROOT = path.join(__dirname, '..', '..');

describe('docs/reference', () => {
  const pages = referencePages();

  it.each(Object.keys(pages))('%s is current (else run `npm run docs:reference`)', (file) => {
    expect(readFileSync(path.join(ROOT, file), 'utf8')).toBe(pages[file]);
  });

  it('generated text cannot break a table, inject HTML or Vue, or make a localhost link', () => {
    expect(cell('a | b\n c')).toBe('a \\| b c');
    expect(code('--x <a|b>')).toBe('<code>--x &lt;a&#124;b&gt;</code>');
    const text = prose('see `{{ x }}` and <script>alert(1)</script> at http://localhost:8233 {{ y }}');
    expect(text).not.toMatch(/\{\{|<script|:\/\//);
    expect(text).toContain('<code>&#123;&#123; x &#125;&#125;</code>');
  });

  it('--check names a page that differs', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'docs-ref-'));
    expect(stalePages(dir, { 'docs/reference/cli.md': 'x' })).toEqual(['docs/reference/cli.md']);
  });

  it('lists every command and flag of the CLI', () => {
    const cli = pages['docs/reference/cli.md']!;
    for (const name of ['run', 'approve', 'list', 'watch', 'worker', 'codec-server', 'temporal'])
      expect(cli).toContain(`## maestro ${name}\n`);
    expect(cli).toContain('<code>--gate-timeout &lt;kind=duration[:policy]&gt;</code>');
    expect(cli).not.toMatch(/\{\{/); // Vue would read it as an interpolation
  });

  it("the environment page documents every variable, and the defaults it states are the code's", () => {
    const env = pages['docs/reference/environment.md']!;
    for (const name of [...Object.keys(EnvSchema.shape), ...Object.keys(OTHER_ENV_VARIABLES)])
      expect(env).toContain(`<code>${name}</code>`);
    const config = loadConfig({}, mkdtempSync(path.join(os.tmpdir(), 'docs-env-')));
    const doc = (name: string): string | undefined => envRows().find((r) => r.name === name)?.doc.default;
    expect(doc('TEMPORAL_NAMESPACE')).toBe(config.temporal.namespace);
    expect(doc('MAESTRO_TASK_QUEUE')).toBe(config.temporal.taskQueue);
    expect(doc('MAESTRO_HOME')).toBe(path.basename(config.home));
    expect(doc('MAESTRO_SIM_LATENCY_MS')).toBe(String(config.simLatencyMs));
    expect(doc('MAESTRO_LLM_TIMEOUT_MS')).toBe(String(config.llm.timeoutMs));
    expect(doc('MAESTRO_LLM_CONTENT_RETRIES')).toBe(String(DEFAULT_CONTENT_RETRIES));
    expect(doc('MAESTRO_TEMPORAL_PORT')).toBe(String(config.uiPort - 1000));
    const real = loadConfig({ OPENAI_API_KEY: 'k' }, mkdtempSync(path.join(os.tmpdir(), 'docs-env-')));
    expect(doc('MAESTRO_MODEL')).toBe(real.llm.workerModel);
  });

  it('the configuration page states the defaults the workflows apply', () => {
    const role = (configJsonSchema().properties!.roles!.items!.properties ?? {}) as Record<
      string,
      { default?: unknown; properties?: Record<string, { default?: unknown }> }
    >;
    const retry = role.retry!.properties!;
    expect(retry.initialIntervalMs!.default).toBe(LLM_ACTIVITY.retry!.initialInterval);
    expect(retry.backoffCoefficient!.default).toBe(LLM_ACTIVITY.retry!.backoffCoefficient);
    expect(retry.maximumIntervalMs!.default).toBe(LLM_ACTIVITY.retry!.maximumInterval);
    expect(retry.maximumAttempts!.default).toBe(LLM_ACTIVITY.retry!.maximumAttempts);
    const sandbox = Object.fromEntries(Object.entries(role.sandbox!.properties!).map(([k, v]) => [k, v.default]));
    expect(sandbox).toEqual(DEFAULT_SANDBOX_LIMITS);
    const repo = configJsonSchema().properties!.repo!.properties!;
    expect(repo.mapTokens!.default).toBe(DEFAULT_MAP_TOKENS);
  });

  it('every environment variable the source reads is documented (or internal)', () => {
    const documented = new Set<string>([
      ...Object.keys(EnvSchema.shape),
      ...Object.keys(OTHER_ENV_VARIABLES),
      ...INTERNAL_ENV_VARIABLES,
    ]);
    const read = new Map<string, string>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.ts'))
          for (const m of readFileSync(full, 'utf8').matchAll(
            /(?:env\.|env\[['"`]|['"`])((?:MAESTRO|TEMPORAL|OTEL|OPENAI|AZURE)_[A-Z0-9_]+)/g,
          ))
            read.set(m[1]!, path.relative(ROOT, full));
      }
    };
    walk(path.join(ROOT, 'src'));
    const missing = [...read].filter(([name]) => !documented.has(name)).map(([n, f]) => `${n} (${f})`);
    expect(missing).toEqual([]);
    expect(read.size).toBeGreaterThan(20);
  });
});
