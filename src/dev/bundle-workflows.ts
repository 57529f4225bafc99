/**
 * Pre-bundles the workflow code at build time (`npm run build`), so workers start in a second
 * instead of running webpack on every start.
 */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundlerOptions } from '../workers/workflow-bundle-options';

/** Bundles `src|dist/workflows` into `outFile`. */
export async function bundleWorkflows(outFile: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    ...workflowBundlerOptions(),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  await writeFile(outFile, code);
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node dist/dev/bundle-workflows.js <out-file>');
    process.exit(2);
  }
  bundleWorkflows(out).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
