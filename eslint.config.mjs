// ESLint flat config. Type-checked typescript-eslint rules for src/ and test/, import cycles
// banned everywhere, and the determinism fence around workflow code (src/workflows, src/shared):
// no Node built-ins, no I/O clients, no value imports from activities, no Math.random.
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const tsconfigRootDir = import.meta.dirname;

/** Node built-ins that must never reach workflow code (bare and `node:` forms). */
const NODE_BUILTINS = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'domain',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'module',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'querystring',
  'readline',
  'repl',
  'stream',
  'string_decoder',
  'timers',
  'tls',
  'tty',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

const WORKFLOW_SANDBOX_MESSAGE =
  'Workflow code (src/workflows, src/shared) must stay deterministic and run in the Temporal sandbox: ' +
  'do I/O in an activity and reach it through proxyActivities.';

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', '.maestro/', 'coverage/', 'test-artifacts/', '**/*.js', '**/*.cjs', '**/*.mjs'],
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir },
    },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.cts', '.mts', '.js', '.cjs', '.mjs'],
      'import-x/parsers': {
        '@typescript-eslint/parser': ['.ts', '.tsx', '.cts', '.mts'],
      },
      // Built-in resolver (unrs-resolver) with TypeScript extensions; no extra resolver package needed.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.d.ts', '.js', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
          conditionNames: ['types', 'import', 'require', 'node', 'default'],
          mainFields: ['types', 'module', 'main'],
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.map((name) => ({
              name,
              message: WORKFLOW_SANDBOX_MESSAGE,
            })),
            {
              name: 'openai',
              message: 'Call the LLM from an activity, never from workflow code.',
            },
            { name: '@temporalio/client', message: WORKFLOW_SANDBOX_MESSAGE },
            { name: '@temporalio/worker', message: WORKFLOW_SANDBOX_MESSAGE },
            { name: '@temporalio/activity', message: WORKFLOW_SANDBOX_MESSAGE },
            {
              name: '@temporalio/workflow',
              importNames: ['setHandler'],
              message:
                'Register handlers with onSignal/onUpdate/onQuery (src/workflows/message-handlers.ts): every payload is validated with zod and nothing thrown reaches the workflow task.',
            },
          ],
          patterns: [
            { group: ['node:*'], message: WORKFLOW_SANDBOX_MESSAGE },
            {
              group: ['openai/*', '@temporalio/client/*', '@temporalio/worker/*', '@temporalio/activity/*'],
            },
            {
              group: ['**/activities', '**/activities/**', '../activities*', '../../activities*'],
              allowTypeImports: true,
              message: 'Only `import type` from activities in workflow code; call them through proxyActivities.',
            },
            {
              group: ['**/client/**', '**/workers/**', '**/dev/**', '**/config'],
              message: WORKFLOW_SANDBOX_MESSAGE,
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'random',
          message: "Not replayable: use `uuid4()` from '@temporalio/workflow' (or a seeded generator passed in).",
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: WORKFLOW_SANDBOX_MESSAGE },
        { name: 'require', message: WORKFLOW_SANDBOX_MESSAGE },
        {
          name: 'setImmediate',
          message: 'Use `sleep()` from @temporalio/workflow.',
        },
      ],
    },
  },
  {
    // Tests poke at loosely typed data (JSON, errors, mocks); the type-level unsafe-* rules add noise there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
