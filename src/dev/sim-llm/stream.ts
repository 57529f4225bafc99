/**
 * Streamed answers of the simulated LLM, as OpenAI sends them (server-sent events): a first chunk
 * with the role, content (or refusal, reasoning) in pieces, tool calls as deltas (name and id
 * first, arguments in pieces), a last chunk with the finish reason, a usage chunk with no choices
 * when the request asked for `stream_options.include_usage`, then `data: [DONE]`. Two faults
 * shape the timing: `stall` stops sending half-way and keeps the connection open (a hung server),
 * `slow-stream` spreads the answer over `latencyMs` (a slow model that keeps producing).
 */
import type { ServerResponse } from 'node:http';
import type { completionBody } from './openai-format';

type Completion = ReturnType<typeof completionBody>;
type Chunk = Record<string, unknown>;

/** Pieces of about this many characters (roughly 4 tokens). */
const PIECE = 16;
/** At most this many pieces per text (a long answer gets longer pieces). */
const MAX_PIECES = 40;

/** `text` cut into pieces for deltas (at least one, at most MAX_PIECES). */
export function piecesOf(text: string): string[] {
  if (!text) return [];
  const size = Math.max(PIECE, Math.ceil(text.length / MAX_PIECES));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The SSE chunks of a completion (`includeUsage`: with the usage chunk, when it has usage). */
export function chunksOf(completion: Completion, includeUsage: boolean): Chunk[] {
  const choice = completion.choices[0]!;
  const message = choice.message as Record<string, unknown>;
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Chunk => ({
    ...base,
    system_fingerprint: completion.system_fingerprint,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const out: Chunk[] = [chunk({ role: 'assistant', content: '' })];
  if (typeof message.reasoning_content === 'string')
    for (const p of piecesOf(message.reasoning_content)) out.push(chunk({ reasoning_content: p }));
  if (typeof message.content === 'string') for (const p of piecesOf(message.content)) out.push(chunk({ content: p }));
  if (typeof message.refusal === 'string') for (const p of piecesOf(message.refusal)) out.push(chunk({ refusal: p }));
  const calls = Array.isArray(message.tool_calls)
    ? (message.tool_calls as { id: string; type: string; function: { name: string; arguments: string } }[])
    : [];
  calls.forEach((c, index) => {
    out.push(
      chunk({
        tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }],
      }),
    );
    for (const p of piecesOf(c.function.arguments))
      out.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  });
  out.push(chunk({}, choice.finish_reason));
  if (includeUsage && completion.usage) out.push({ ...base, choices: [], usage: completion.usage });
  return out;
}

/** How to send a stream. */
export interface StreamPlan {
  /** Wait before each chunk after the first, in ms. */
  gapMs: number;
  /** Stop after this many chunks and never end (the `stall` fault). */
  stallAfter?: number;
  sleep: (ms: number) => Promise<void>;
  headers: Record<string, string>;
}

/** Sends `chunks` as server-sent events; resolves with the status to record (499 when the client left). */
export async function sendStream(
  res: ServerResponse,
  chunks: readonly Chunk[],
  plan: StreamPlan,
): Promise<number | undefined> {
  if (res.destroyed) return 499;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...plan.headers });
  for (const [i, c] of chunks.entries()) {
    if (plan.stallAfter !== undefined && i >= plan.stallAfter) return undefined; // hangs; 'close' records 499
    if (i > 0) await plan.sleep(plan.gapMs);
    if (res.destroyed) return 499;
    res.write(`data: ${JSON.stringify(c)}\n\n`);
  }
  res.end('data: [DONE]\n\n');
  return 200;
}
