/**
 * The engine server's streamed answers (`stream: true`), in OpenAI's server-sent-event format:
 * content deltas as llama.cpp generates them; for a request with tools, whose text is a grammar's
 * JSON that is only known to be tool calls or an answer at its end, empty deltas while it
 * generates (so a client's inactivity timer sees a live server) and the tool calls (or the answer)
 * as one delta at the end; then the finish reason, the usage chunk when the request asked for
 * `stream_options.include_usage`, and `data: [DONE]`. A failure after the stream began is sent as
 * an `error` event (the status line is gone by then).
 */
import type { ServerResponse } from 'node:http';

/** Empty keep-alive deltas of a tool request at most this often. */
const KEEPALIVE_EVERY_MS = 250;

/** One streamed answer on `res`. */
export class SseAnswer {
  private started = false;
  private lastSent = 0;
  private readonly base: Record<string, unknown>;

  constructor(
    private readonly res: ServerResponse,
    id: string,
    model: string,
    /** Whether text chunks are sent as they come (false for tool requests: sent at the end). */
    private readonly live: boolean,
  ) {
    this.base = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  }

  private send(payload: Record<string, unknown>): void {
    if (this.res.destroyed) return;
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      this.res.write(`data: ${JSON.stringify(this.chunk({ role: 'assistant', content: '' }))}\n\n`);
    }
    this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
    this.lastSent = Date.now();
  }

  private chunk(delta: Record<string, unknown>, finish: string | null = null): Record<string, unknown> {
    return { ...this.base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }

  /** Whether the stream has begun (then errors go as events, not statuses). */
  get begun(): boolean {
    return this.started;
  }

  /** A piece of generated text: a content delta, or a keep-alive for a tool request. */
  text(piece: string): void {
    if (this.live) {
      if (piece) this.send(this.chunk({ content: piece }));
    } else if (Date.now() - this.lastSent >= KEEPALIVE_EVERY_MS) this.send(this.chunk({}));
  }

  /** The end: tool calls or the unsent answer, the finish reason, the usage, [DONE]. */
  end(args: {
    content?: string;
    toolCalls?: readonly { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    finish: string;
    usage?: Record<string, unknown>;
  }): void {
    if (args.toolCalls) this.send(this.chunk({ tool_calls: args.toolCalls.map((c, index) => ({ index, ...c })) }));
    else if (args.content) this.send(this.chunk({ content: args.content }));
    this.send(this.chunk({}, args.finish));
    if (args.usage) this.send({ ...this.base, choices: [], usage: args.usage });
    if (!this.res.destroyed) this.res.end('data: [DONE]\n\n');
  }

  /** A failure after the stream began, as OpenAI sends one mid-stream. */
  fail(message: string, type: string): void {
    this.send({ error: { message, type, code: null, param: null } });
    if (!this.res.destroyed) this.res.end();
  }
}
