/**
 * Builds the `chat.completion` a streamed answer adds up to, from its chunks: content, refusal and
 * reasoning text appended, tool calls merged by index (name once, arguments in pieces; a server
 * may send a whole call as one delta at the end), the finish reason and the usage of the final
 * chunk (`stream_options.include_usage`). The SDK's ChatCompletionStream does the same but throws
 * where the non-streaming path tolerated a provider's quirks: a strict tool's arguments that are
 * not JSON (tool mode's answer, which must reach the repair call), a tool call with no id, a
 * stream that ends without a finish reason or a role, or chunks with changing ids. Here those
 * become the same completion the non-streaming path read, and the callers judge it as before.
 */
import type OpenAI from 'openai';

/** Longest text kept per field (content, refusal, reasoning, one call's arguments): a bound on a runaway stream. */
export const MAX_STREAM_TEXT = 8_000_000;

interface ToolCallSoFar {
  id: string;
  name: string;
  arguments: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const append = (to: string, more: string) =>
  to.length >= MAX_STREAM_TEXT ? to : (to + more).slice(0, MAX_STREAM_TEXT);

/** What one chunk added, for progress: a chunk that carries answer text or arguments is one token. */
export interface ChunkEffect {
  /** The chunk carried generated text (content, refusal, reasoning or tool-call arguments/names). */
  produced: boolean;
}

/** Accumulates the chunks of one streamed choice 0 (Maestro asks for one choice). */
export class CompletionAccumulator {
  private id = '';
  private model = '';
  private created = 0;
  private content: string | undefined;
  private refusal: string | undefined;
  private reasoning: string | undefined;
  private finish: string | undefined;
  private usage: unknown;
  private readonly calls: ToolCallSoFar[] = [];
  /** Characters of arguments kept over all calls: the cap bounds them together (10,000 calls × the cap would not be a bound). */
  private argsKept = 0;
  /** Chunks seen (any, keep-alives with no choice included). */
  chunks = 0;

  /** Adds one parsed SSE chunk (of any shape: a broken server's oddities are skipped, not thrown). */
  add(chunk: unknown): ChunkEffect {
    this.chunks++;
    if (!isObj(chunk)) return { produced: false };
    if (!this.id && typeof chunk.id === 'string') this.id = chunk.id;
    if (typeof chunk.model === 'string' && chunk.model) this.model = chunk.model;
    if (!this.created && typeof chunk.created === 'number') this.created = chunk.created;
    if (isObj(chunk.usage)) this.usage = chunk.usage;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice: unknown = choices.find((c) => isObj(c) && (c.index === 0 || c.index === undefined));
    if (!isObj(choice)) return { produced: false };
    if (typeof choice.finish_reason === 'string' && choice.finish_reason) this.finish = choice.finish_reason;
    const delta = isObj(choice.delta) ? choice.delta : isObj(choice.message) ? choice.message : undefined;
    if (!delta) return { produced: false };
    let produced = false;
    const more = (field: 'content' | 'refusal' | 'reasoning', v: unknown) => {
      const s = text(v);
      if (!s) return;
      produced = true;
      this[field] = append(this[field] ?? '', s);
    };
    more('content', delta.content);
    more('refusal', delta.refusal);
    more('reasoning', delta.reasoning_content ?? delta.reasoning);
    if (Array.isArray(delta.tool_calls)) {
      for (const [i, raw] of delta.tool_calls.entries()) {
        if (!isObj(raw)) continue;
        const index = typeof raw.index === 'number' && Number.isInteger(raw.index) && raw.index >= 0 ? raw.index : i;
        if (index > 10_000) continue;
        const call = (this.calls[index] ??= { id: '', name: '', arguments: '' });
        if (typeof raw.id === 'string' && raw.id) call.id = raw.id;
        const fn = isObj(raw.function) ? raw.function : {};
        if (typeof fn.name === 'string' && fn.name) {
          call.name = fn.name;
          produced = true;
        }
        // Arguments as text pieces; a server that sends them as an object sends them whole.
        const args =
          typeof fn.arguments === 'string' ? fn.arguments : isObj(fn.arguments) ? JSON.stringify(fn.arguments) : '';
        if (args) {
          const room = MAX_STREAM_TEXT - this.argsKept;
          if (room > 0) {
            const before = call.arguments.length;
            call.arguments = append(call.arguments, args.length > room ? args.slice(0, room) : args);
            this.argsKept += call.arguments.length - before;
          }
          produced = true;
        }
      }
    }
    return { produced };
  }

  /** Whether the provider sent a usage block (the final chunk, with `include_usage`). */
  get hasUsage(): boolean {
    return this.usage !== undefined;
  }

  /** The completion the chunks add up to (as the non-streaming endpoint would have sent it). */
  completion(asked: string): OpenAI.ChatCompletion {
    const toolCalls = this.calls.filter((c) => c !== undefined);
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: this.content ?? null,
      refusal: this.refusal ?? null,
      ...(toolCalls.length > 0
        ? {
            tool_calls: toolCalls.map((c, i) => ({
              id: c.id || `call_${i}`,
              type: 'function',
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : {}),
      ...(this.reasoning !== undefined ? { reasoning_content: this.reasoning } : {}),
    };
    return {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.model || asked,
      choices: [
        {
          index: 0,
          message: message as unknown as OpenAI.ChatCompletionMessage,
          logprobs: null,
          // A stream that ended without a reason (some servers) ended as a normal stop.
          finish_reason: (this.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop')) as 'stop',
        },
      ],
      ...(this.usage !== undefined ? { usage: this.usage as OpenAI.CompletionUsage } : {}),
    };
  }
}
