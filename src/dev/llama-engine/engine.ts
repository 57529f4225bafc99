/**
 * A real inference engine for offline tests: llama.cpp through `node-llama-cpp` (prebuilt CPU
 * binaries from npm, never a download or build at run time), one thread, a small context. Chat
 * generation is constrained by grammars that llama.cpp compiles from JSON schemas, so this is
 * where Maestro's wire schemas meet a real grammar compiler. node-llama-cpp is ESM-only and a
 * dev dependency, so it is loaded with a real dynamic `import()` when an engine starts.
 */

/** One chat turn, as the engine takes it. */
export type EngineTurn = { type: 'system' | 'user'; text: string } | { type: 'model'; response: string[] };

/** What one generation produced. */
export interface EngineAnswer {
  text: string;
  /** True when generation stopped at `maxTokens`. */
  truncated: boolean;
  promptTokens: number;
  completionTokens: number;
}

/** How to constrain a generation. */
export type EngineGrammar = { kind: 'json-schema'; schema: unknown } | { kind: 'json' } | { kind: 'none' };

/** The parts of node-llama-cpp used here (typed locally: the package is ESM-only). */
interface NodeLlamaCpp {
  getLlama(opts: Record<string, unknown>): Promise<Llama>;
  LlamaChat: new (opts: { contextSequence: Sequence }) => {
    generateResponse(
      history: EngineTurn[],
      opts: {
        grammar?: Grammar;
        maxTokens?: number;
        temperature?: number;
        signal?: AbortSignal;
        repeatPenalty?: { penalty: number; lastTokens: number };
      },
    ): Promise<{ response: string; metadata: { stopReason: string } }>;
    dispose(): void;
  };
}
interface Llama {
  loadModel(opts: { modelPath: string }): Promise<Model>;
  createGrammarForJsonSchema(schema: unknown): Promise<Grammar>;
  getGrammarFor(kind: 'json'): Promise<Grammar>;
  dispose(): Promise<void>;
}
interface Model {
  createContext(opts: { contextSize: number; threads: number; sequences: number }): Promise<Context>;
  dispose(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface Sequence {
  clearHistory(): Promise<void>;
  tokenMeter: { usedInputTokens: number; usedOutputTokens: number };
}
type Grammar = { grammar: string };

/** Penalty on tokens repeated within the last 64 (llama.cpp's classic default sampling). */
const REPEAT_PENALTY = Number(process.env.MAESTRO_LLAMA_REPEAT_PENALTY ?? 1.1);

/** Settings of an engine. */
export interface EngineOptions {
  modelPath: string;
  /** llama.cpp threads (default 1: spin-waiting threads crawl on a busy 2-core machine). */
  threads?: number;
  /** Context window in tokens (default 4096). */
  contextSize?: number;
}

/** Why a JSON schema could not become a grammar, in llama.cpp's words. */
export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** A loaded model serving one generation at a time. */
export class LlamaEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly grammars = new Map<string, Promise<Grammar>>();

  private constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly model: Model,
    private readonly context: Context,
    private readonly lastErrors: string[],
  ) {}

  /** Loads the library (prebuilt binaries only) and the model. */
  static async start(opts: EngineOptions): Promise<LlamaEngine> {
    const lib = (await import('node-llama-cpp')) as unknown as NodeLlamaCpp;
    const lastErrors: string[] = [];
    const threads = opts.threads ?? 1;
    const llama = await lib.getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      maxThreads: threads,
      logLevel: 'error',
      logger: (level: string, message: string) => {
        if (level === 'error' || level === 'fatal') lastErrors.push(message.trim());
        if (lastErrors.length > 20) lastErrors.shift();
      },
    });
    const model = await llama.loadModel({ modelPath: opts.modelPath });
    const context = await model.createContext({ contextSize: opts.contextSize ?? 4096, threads, sequences: 1 });
    return new LlamaEngine(lib, llama, model, context, lastErrors);
  }

  /** Compiles a JSON schema with llama.cpp's grammar parser (cached per schema text). */
  async grammarFor(schema: unknown): Promise<{ rules: number }> {
    const g = await this.jsonSchemaGrammar(schema);
    return { rules: g.grammar.split('\n').filter((l) => l.includes('::=')).length };
  }

  private jsonSchemaGrammar(schema: unknown): Promise<Grammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      const before = this.lastErrors.length;
      g = this.llama.createGrammarForJsonSchema(schema).catch((err: unknown) => {
        this.grammars.delete(key);
        const why = this.lastErrors.slice(before).join(' ').trim();
        throw new GrammarError(`${(err as Error).message}${why ? `: ${why}` : ''}`);
      });
      this.grammars.set(key, g);
    }
    return g;
  }

  /** Generates one answer (requests wait their turn: one context, one sequence). */
  generate(opts: {
    history: EngineTurn[];
    grammar: EngineGrammar;
    maxTokens?: number;
    temperature?: number;
    signal?: AbortSignal;
  }): Promise<EngineAnswer> {
    const job = this.queue.then(async () => {
      const grammar =
        opts.grammar.kind === 'json-schema'
          ? await this.jsonSchemaGrammar(opts.grammar.schema)
          : opts.grammar.kind === 'json'
            ? await this.llama.getGrammarFor('json')
            : undefined;
      const sequence = this.context.getSequence();
      try {
        await sequence.clearHistory();
        const chat = new this.lib.LlamaChat({ contextSequence: sequence });
        // The meter's counts are getters: read them, a spread would copy nothing.
        const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
        const res = await chat.generateResponse(opts.history, {
          ...(grammar ? { grammar } : {}),
          ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          // llama.cpp's long-time default: keeps a tiny model out of endless repeats inside a string.
          repeatPenalty: { penalty: REPEAT_PENALTY, lastTokens: 64 },
        });
        chat.dispose();
        return {
          text: res.response,
          truncated: res.metadata.stopReason === 'maxTokens',
          promptTokens: sequence.tokenMeter.usedInputTokens - before.input,
          completionTokens: sequence.tokenMeter.usedOutputTokens - before.output,
        };
      } finally {
        (sequence as unknown as { dispose(): void }).dispose();
      }
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Frees the model and the library. */
  async close(): Promise<void> {
    await this.queue;
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
