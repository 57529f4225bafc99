/**
 * Automatic prompt caching as OpenAI reports it, for the simulated server: a request's
 * `usage.prompt_tokens_details.cached_tokens` is the longest prefix it shares with an earlier
 * request to the same model, counted in whole 128-token blocks, and only from 1,024 tokens on
 * (below that OpenAI caches nothing). Lets runs and the bench show what stable-first prompts
 * save without a paid provider.
 *
 * The prompt is cut into blocks of 128 simulated tokens (the server counts 4 characters a
 * token) and each block is remembered by a hash chained over every block before it, so a
 * block's hash stands for the whole prefix up to its end (the scheme vLLM's prefix cache uses).
 * Memory is bounded: the least recently used blocks are forgotten first.
 */
import { createHash } from 'node:crypto';

/** OpenAI caches prompts from this many shared tokens on. */
export const CACHE_MIN_TOKENS = 1024;

/** Cached tokens come in steps of this many tokens. */
export const CACHE_BLOCK_TOKENS = 128;

/** Characters per simulated token (as `tokensOf` in openai-format.ts counts them). */
const CHARS_PER_TOKEN = 4;

/** Blocks remembered by default: 65,536 × 128 tokens ≈ 8.4 M tokens of prompts, a few MB of hashes. */
export const DEFAULT_CACHE_BLOCKS = 65_536;

/** The prefix cache of one simulated server (per model: the model name seeds every hash chain). */
export class PromptCache {
  /** Block hashes in least-recently-used order (a Map keeps insertion order). */
  private readonly blocks = new Map<string, true>();

  /** `maxBlocks`: how many blocks to remember (at least 1). */
  constructor(private readonly maxBlocks = DEFAULT_CACHE_BLOCKS) {
    if (!Number.isInteger(maxBlocks) || maxBlocks < 1)
      throw new RangeError(`maxBlocks must be a whole number >= 1, not ${String(maxBlocks)}`);
  }

  /**
   * The cached tokens of `prompt` (the request's message texts as the server counts them) sent to
   * `model`: 0, or a multiple of 128 of at least 1,024. Then remembers the prompt's blocks.
   */
  cachedTokens(model: string, prompt: string): number {
    const blockChars = CACHE_BLOCK_TOKENS * CHARS_PER_TOKEN;
    const whole = Math.floor(prompt.length / blockChars);
    let chain = digest(`model\u0000${model}`);
    let matched = 0;
    let hit = true;
    for (let i = 0; i < whole; i++) {
      chain = digest(chain, prompt.slice(i * blockChars, (i + 1) * blockChars));
      hit = hit && this.blocks.has(chain);
      if (hit) matched++;
      this.remember(chain);
    }
    const tokens = matched * CACHE_BLOCK_TOKENS;
    return tokens >= CACHE_MIN_TOKENS ? tokens : 0;
  }

  /** Blocks remembered now (for tests of the bound). */
  get size(): number {
    return this.blocks.size;
  }

  private remember(hash: string): void {
    this.blocks.delete(hash); // re-inserted last: most recently used
    this.blocks.set(hash, true);
    if (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value;
      if (oldest !== undefined) this.blocks.delete(oldest);
    }
  }
}

/** A chained hash; UTF-16 code units are hashed as they are, so a cut surrogate pair stays distinct. */
function digest(prev: string, block = ''): string {
  return createHash('sha256').update(prev, 'utf8').update(block, 'utf16le').digest('base64');
}
