/**
 * `npm run bench`: runs the benchmark sections in order and prints a table per section, then
 * one JSON summary line (stdout); progress goes to stderr. Benchmarks only measure: nothing
 * passes or fails on timing. Exit code 1 when a section could not run, 2 for bad arguments.
 */
import os from 'node:os';
import path from 'node:path';
import { BenchArgsError, parseBenchArgs, usage } from './args';
import { cacheSection } from './cache-bench';
import { epicsSection } from './epics-bench';
import { floorSection } from './floor-bench';
import { mergeQueueSection } from './merge-queue-bench';
import { planGraphSection } from './plan-graph-bench';
import { repoMapSection } from './repo-map-bench';
import { runSection } from './run-bench';
import { simLlmSection } from './sim-llm-bench';
import { tokensSection } from './tokens-bench';
import { workerRssSection } from './worker-rss-bench';
import { renderTable } from './table';
import type { BenchContext, BenchSection } from './types';

/** Every section, in the order they run. */
export const SECTIONS: readonly BenchSection[] = [
  planGraphSection,
  repoMapSection,
  simLlmSection,
  runSection,
  tokensSection,
  cacheSection,
  floorSection,
  workerRssSection,
  epicsSection,
  mergeQueueSection,
];

async function main(): Promise<number> {
  const names = SECTIONS.map((s) => s.name);
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2), names);
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err;
    process.stderr.write(`bench: ${err.message}\n${usage(names)}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage(names)}\n`);
    return 0;
  }
  const ctx: BenchContext = {
    quick: args.quick,
    repoRoot: path.resolve(__dirname, '..', '..'),
    log: (msg) => process.stderr.write(`[bench] ${msg}\n`),
  };
  const selected = SECTIONS.filter((s) => (args.only ? args.only.includes(s.name) : !s.optIn));
  const env = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    exposeGc: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
  process.stdout.write(
    `Maestro benchmarks (${args.quick ? 'quick' : 'full'}) — node ${env.node}, ${env.cpus} CPU(s) ${env.cpuModel}\n` +
      'Numbers from one noisy run: compare ratios within this run, not absolute values across machines.\n\n',
  );
  const sections: Record<string, unknown> = {};
  let failed = 0;
  const t0 = performance.now();
  for (const section of selected) {
    ctx.log(`${section.name}: ${section.title}`);
    const started = performance.now();
    try {
      const rep = await section.run(ctx);
      for (const table of rep.tables) process.stdout.write(`${renderTable(table)}\n\n`);
      sections[section.name] = { ...rep.summary, seconds: Math.round(performance.now() - started) / 1000 };
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`[bench] ${section.name} FAILED: ${message}\n`);
      if (process.env.MAESTRO_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
      const short = message.length > 120 ? `${message.slice(0, 117)}...` : message;
      process.stdout.write(`== ${section.name}: not measured (${short.split('\n')[0]}; see stderr)\n\n`);
      sections[section.name] = { error: message };
    }
  }
  const summary = {
    bench: 'maestro',
    mode: args.quick ? 'quick' : 'full',
    at: new Date().toISOString(),
    env,
    seconds: Math.round(performance.now() - t0) / 1000,
    sections,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
