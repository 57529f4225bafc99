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

/** How to constrain a generation: a JSON schema, any JSON, a GBNF text of our own, or nothing. */
export type EngineGrammar =
  { kind: 'json-schema'; schema: unknown } | { kind: 'json' } | { kind: 'gbnf'; text: string } | { kind: 'none' };

/** What the loaded GGUF file says about itself (its `general.*` metadata). */
export interface ModelInfo {
  name?: string;
  architecture?: string;
  sizeLabel?: string;
  /** The context length the model was trained for. */
  trainedContext?: number;
}

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
        onTextChunk?: (text: string) => void;
      },
    ): Promise<{ response: string; metadata: { stopReason: string } }>;
    dispose(): void;
  };
}
interface Llama {
  loadModel(opts: { modelPath: string }): Promise<Model>;
  createGrammarForJsonSchema(schema: unknown): Promise<Grammar>;
  createGrammar(opts: { grammar: string }): Promise<Grammar>;
  getGrammarFor(kind: 'json'): Promise<Grammar>;
  dispose(): Promise<void>;
}
interface Model {
  fileInfo: { metadata: { general?: Record<string, unknown> }; architectureMetadata?: { context_length?: number } };
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
  /** Context window of each sequence in tokens (default 4096). */
  contextSize?: number;
  /** Requests generated at once, each on its own context sequence (default 1). */
  parallel?: number;
  /** Requests that may wait for a free sequence; past that `generate` throws EngineBusyError (default 8). */
  queue?: number;
}

/** The engine is full: every sequence busy and the queue too. The server answers 503 with `retryAfterS`. */
export class EngineBusyError extends Error {
  override name = 'EngineBusyError';
  constructor(
    readonly running: number,
    readonly waiting: number,
    readonly retryAfterS: number,
  ) {
    super(
      `The engine is busy: ${running} requests running and ${waiting} waiting (its --parallel and --queue limits); retry in ${retryAfterS} s`,
    );
  }
}

/** Why a JSON schema could not become a grammar, in llama.cpp's words. */
export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** A loaded model serving `parallel` generations at once, with a bounded queue behind them. */
export class LlamaEngine {
  private readonly grammars = new Map<string, Promise<Grammar>>();
  private readonly free: Sequence[];
  private readonly waiting: { resolve: (s: Sequence) => void; reject: (e: Error) => void }[] = [];
  private readonly running = new Set<Promise<unknown>>();
  /** Recent generation time in ms (an average), for an honest retry-after. */
  private avgMs = 5000;

  private constructor(
    private readonly lib: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly model: Model,
    private readonly context: Context,
    private readonly lastErrors: string[],
    private readonly parallel: number,
    private readonly queueLimit: number,
  ) {
    this.free = Array.from({ length: parallel }, () => context.getSequence());
  }

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
    const parallel = Math.max(1, opts.parallel ?? 1);
    const context = await model.createContext({ contextSize: opts.contextSize ?? 4096, threads, sequences: parallel });
    return new LlamaEngine(lib, llama, model, context, lastErrors, parallel, Math.max(0, opts.queue ?? 8));
  }

  /** The loaded file's own description (GGUF `general.*`), for /v1/models and doctor output. */
  info(): ModelInfo {
    const g = this.model.fileInfo.metadata.general ?? {};
    const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
    const trained = this.model.fileInfo.architectureMetadata?.context_length;
    return {
      ...(str(g.name) ? { name: str(g.name) } : {}),
      ...(str(g.architecture) ? { architecture: str(g.architecture) } : {}),
      ...(str(g.size_label) ? { sizeLabel: str(g.size_label) } : {}),
      ...(typeof trained === 'number' ? { trainedContext: trained } : {}),
    };
  }

  /** A free sequence, or a place in the queue; a full queue or an abort while waiting rejects. */
  private acquire(signal?: AbortSignal): Promise<Sequence> {
    const ready = this.free.pop();
    if (ready) return Promise.resolve(ready);
    if (this.waiting.length >= this.queueLimit) {
      const perRequest = this.avgMs / this.parallel;
      const wait = Math.ceil((perRequest * (this.waiting.length + 1)) / 1000);
      return Promise.reject(new EngineBusyError(this.parallel, this.waiting.length, Math.min(120, Math.max(1, wait))));
    }
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error('the client went away while the request waited'));
        },
        { once: true },
      );
    });
  }

  private release(sequence: Sequence): void {
    const next = this.waiting.shift();
    if (next) next.resolve(sequence);
    else this.free.push(sequence);
  }

  /** Compiles a JSON schema with llama.cpp's grammar parser (cached per schema text). */
  async grammarFor(schema: unknown): Promise<{ rules: number }> {
    const g = await this.jsonSchemaGrammar(schema);
    return { rules: g.grammar.split('\n').filter((l) => l.includes('::=')).length };
  }

  /** Caches a grammar; the oldest go past 64, so requests with ever-new tools cannot grow memory. */
  private remember(key: string, grammar: Promise<Grammar>): void {
    this.grammars.set(key, grammar);
    for (const old of this.grammars.keys()) {
      if (this.grammars.size <= 64) break;
      this.grammars.delete(old);
    }
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
      this.remember(key, g);
    }
    return g;
  }

  private async grammarOf(g: EngineGrammar): Promise<Grammar | undefined> {
    if (g.kind === 'json-schema') return this.jsonSchemaGrammar(g.schema);
    if (g.kind === 'json') return this.llama.getGrammarFor('json');
    if (g.kind === 'none') return undefined;
    const key = `gbnf:${g.text}`;
    let grammar = this.grammars.get(key);
    if (!grammar) {
      const before = this.lastErrors.length;
      grammar = this.llama.createGrammar({ grammar: g.text }).catch((err: unknown) => {
        this.grammars.delete(key);
        const why = this.lastErrors.slice(before).join(' ').trim();
        throw new GrammarError(`${(err as Error).message}${why ? `: ${why}` : ''}`);
      });
      this.remember(key, grammar);
    }
    return grammar;
  }

  /** A grammar's GBNF text (tool-call grammars are built around it); undefined for `none`. */
  async gbnfOf(g: EngineGrammar): Promise<string | undefined> {
    return (await this.grammarOf(g))?.grammar;
  }

  /**
   * Generates one answer on a free sequence, waiting in the queue when all are busy; throws
   * EngineBusyError when the queue is full. `generationMs` excludes the wait.
   */
  generate(opts: {
    history: EngineTurn[];
    grammar: EngineGrammar;
    maxTokens?: number;
    temperature?: number;
    signal?: AbortSignal;
    /** Told each piece of text as the model generates it (for streamed answers). */
    onTextChunk?: (text: string) => void;
  }): Promise<EngineAnswer & { generationMs: number }> {
    const job = this.run(opts);
    this.running.add(job);
    void job.then(
      () => this.running.delete(job),
      () => this.running.delete(job),
    );
    return job;
  }

  private async run(opts: Parameters<LlamaEngine['generate']>[0]): Promise<EngineAnswer & { generationMs: number }> {
    const grammar = await this.grammarOf(opts.grammar);
    const sequence = await this.acquire(opts.signal);
    const started = Date.now();
    try {
      await sequence.clearHistory();
      const chat = new this.lib.LlamaChat({ contextSequence: sequence });
      // The meter's counts are getters: read them, a spread would copy nothing.
      const before = { input: sequence.tokenMeter.usedInputTokens, output: sequence.tokenMeter.usedOutputTokens };
      try {
        const res = await chat.generateResponse(opts.history, {
          ...(grammar ? { grammar } : {}),
          ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onTextChunk ? { onTextChunk: opts.onTextChunk } : {}),
          // llama.cpp's long-time default: keeps a tiny model out of endless repeats inside a string.
          repeatPenalty: { penalty: REPEAT_PENALTY, lastTokens: 64 },
        });
        const generationMs = Date.now() - started;
        this.avgMs = this.avgMs * 0.7 + generationMs * 0.3;
        return {
          text: res.response,
          truncated: res.metadata.stopReason === 'maxTokens',
          promptTokens: sequence.tokenMeter.usedInputTokens - before.input,
          completionTokens: sequence.tokenMeter.usedOutputTokens - before.output,
          generationMs,
        };
      } finally {
        chat.dispose();
      }
    } finally {
      this.release(sequence);
    }
  }

  /** Frees the model and the library. */
  async close(): Promise<void> {
    for (const w of this.waiting.splice(0)) w.reject(new Error('the engine is stopping'));
    await Promise.allSettled([...this.running]);
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
