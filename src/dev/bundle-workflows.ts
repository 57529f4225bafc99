/**
 * Pre-bundles the workflow code at build time (`npm run build`), so workers start in a second
 * instead of running webpack on every start: one bundle with the SDK's failure converter, and a
 * twin with the encoded-failure converter for workers with encryption keys (codec/data-converter.ts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCODED_FAILURE_CONVERTER_PATH } from '../codec/data-converter';
import { encodedFailuresBundlePath, workflowBundlerOptions } from '../workers/workflow-bundle-options';

/** Bundles `src|dist/workflows` into `outFile`, with the given failure converter module (default: the SDK's). */
export async function bundleWorkflows(outFile: string, failureConverterPath?: string): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    ...workflowBundlerOptions(),
    ...(failureConverterPath ? { failureConverterPath } : {}),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  await writeFile(outFile, withoutSourcesContent(code, path.dirname(path.resolve(outFile))));
}

const INLINE_MAP = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/**
 * The bundle with its inline source map stripped of `sourcesContent` (the original files' text,
 * ~1.8 MB): every worker parses the map in its main thread and again in its workflow thread,
 * which cost ~40 MB of RSS (`npm run bench -- --only rss`). Stack traces of workflow errors still
 * point into the TypeScript sources (the mappings stay); a debugger reads the sources from disk.
 * With `outDir` (the bundle's folder), absolute source paths become relative to it: the package
 * ships the bundle, and must not carry the paths of the machine that built it.
 */
export function withoutSourcesContent(code: string, outDir?: string): string {
  const at = code.lastIndexOf(INLINE_MAP);
  if (at < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(at + INLINE_MAP.length).trim(), 'base64').toString('utf8')) as {
    sourcesContent?: unknown;
    sources?: unknown;
  };
  delete map.sourcesContent;
  if (outDir && Array.isArray(map.sources))
    map.sources = map.sources.map((s: unknown) =>
      typeof s === 'string' && path.isAbsolute(s) ? path.relative(outDir, s).split(path.sep).join('/') : s,
    );
  return `${code.slice(0, at)}${INLINE_MAP}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node dist/dev/bundle-workflows.js <out-file>');
    process.exit(2);
  }
  bundleWorkflows(out)
    .then(() => bundleWorkflows(encodedFailuresBundlePath(out), ENCODED_FAILURE_CONVERTER_PATH))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
