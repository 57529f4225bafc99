#!/usr/bin/env node
/**
 * `npm run llama-engine -- [--port N] [--threads N] [--context N] [--check]`: serves SmolLM2-135M-Instruct
 * through llama.cpp as an OpenAI-compatible endpoint on 127.0.0.1, for offline runs against a
 * real engine (`OPENAI_BASE_URL=<printed URL> maestro run ...`) and for the test suite. Prints
 * `LLAMA_ENGINE_URL=<base URL>` once it answers, and stops cleanly on SIGINT/SIGTERM. `--check`
 * only loads the engine and the model (installing the model if needed), compiles a grammar, and exits.
 */
import path from 'node:path';
import { LlamaEngine } from './engine';
import { resolveModelFile, SMOLLM_MODEL_ID } from './model-file';
import { startLlamaServer } from './server';

function intFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} needs a whole number, got ${String(args[i + 1])}`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const home = path.resolve(process.env.MAESTRO_HOME ?? '.maestro');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const modelPath = await resolveModelFile({ maestroHome: home, log });
  const started = Date.now();
  const engine = await LlamaEngine.start({
    modelPath,
    threads: intFlag(args, '--threads', 1),
    contextSize: intFlag(args, '--context', 4096),
  });
  if (args.includes('--check')) {
    // CI's install check: the prebuilt binary loads (no download, no build) and compiles a grammar.
    const { rules } = await engine.grammarFor({ type: 'object', properties: { ok: { type: 'boolean' } } });
    log(`llama.cpp engine check passed: model loaded, a ${rules}-rule grammar compiled`);
    await engine.close();
    return;
  }
  const server = await startLlamaServer({ engine, model: SMOLLM_MODEL_ID, port: intFlag(args, '--port', 0) });
  log(`llama.cpp engine ready in ${Date.now() - started} ms: ${modelPath}`);
  process.stdout.write(`LLAMA_ENGINE_URL=${server.baseUrl}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  await engine.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`llama-engine: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
