#!/usr/bin/env node
/**
 * `npm run llama-engine -- [--port N] [--threads N] [--context N] [--parallel N] [--queue N]
 * [--max-tokens N] [--model-id ID] [--check]`: serves a GGUF model (SmolLM2-135M-Instruct unless
 * MAESTRO_LLAMA_MODEL names another file) through llama.cpp as an OpenAI-compatible endpoint on 127.0.0.1, for offline runs against a
 * real engine (`OPENAI_BASE_URL=<printed URL> maestro run ...`) and for the test suite. Prints
 * `LLAMA_ENGINE_URL=<base URL>` once it answers, and stops cleanly on SIGINT/SIGTERM. `--check`
 * only loads the engine and the model (installing the model if needed), compiles a grammar, and exits.
 */
import path from 'node:path';
import { LlamaEngine } from './engine';
import { modelIdOf, resolveModelFile } from './model-file';
import { DEFAULT_MAX_TOKENS, startLlamaServer } from './server';

function intFlag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} needs a whole number, got ${String(args[i + 1])}`);
  return v;
}

function stringFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new Error(`${name} needs a value`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const home = path.resolve(process.env.MAESTRO_HOME ?? '.maestro');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const modelPath = await resolveModelFile({ maestroHome: home, log });
  const started = Date.now();
  const parallel = intFlag(args, '--parallel', 1);
  const maxTokens = intFlag(args, '--max-tokens', DEFAULT_MAX_TOKENS);
  if (parallel < 1) throw new Error('--parallel needs at least 1');
  if (maxTokens < 1) throw new Error('--max-tokens needs at least 1');
  const engine = await LlamaEngine.start({
    modelPath,
    threads: intFlag(args, '--threads', 1),
    contextSize: intFlag(args, '--context', 4096),
    parallel,
    queue: intFlag(args, '--queue', 8),
  });
  if (args.includes('--check')) {
    // CI's install check: the prebuilt binary loads (no download, no build) and compiles a grammar.
    const { rules } = await engine.grammarFor({ type: 'object', properties: { ok: { type: 'boolean' } } });
    log(`llama.cpp engine check passed: model loaded, a ${rules}-rule grammar compiled`);
    await engine.close();
    return;
  }
  const model = stringFlag(args, '--model-id') ?? modelIdOf(modelPath, engine.info().name);
  const server = await startLlamaServer({
    engine,
    model,
    port: intFlag(args, '--port', 0),
    defaultMaxTokens: maxTokens,
    log,
  });
  log(
    `llama.cpp engine ready in ${Date.now() - started} ms: ${model} (${modelPath}), ` +
      `${parallel} parallel, default max_tokens ${maxTokens}`,
  );
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
