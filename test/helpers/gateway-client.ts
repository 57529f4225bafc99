/**
 * What the gateway tests share: a raw HTTP client for the Anthropic Messages API (fetch and a
 * small SSE parser, since the Anthropic SDK is not a dependency) and the sum of what the
 * simulated LLM itself counted, to compare the gateway's bill with.
 */
import type { SimRequestRecord } from '../../src/dev/sim-llm';

/** One server-sent event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Parses a whole SSE body (events separated by blank lines; `event:` and `data:` fields). */
export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event === undefined && data.length === 0) continue; // a comment (keep-alive) only
    out.push({ ...(event !== undefined ? { event } : {}), data: data.join('\n') });
  }
  return out;
}

/** POSTs an Anthropic Messages request as Claude Code does (x-api-key, `?beta=true`). */
export async function postMessages(
  url: string,
  key: string,
  body: unknown,
): Promise<{ status: number; text: string; json?: unknown; events?: SseEvent[] }> {
  const res = await fetch(`${url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  let json: unknown;
  if (!sse) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return {
    status: res.status,
    text,
    ...(json !== undefined ? { json } : {}),
    ...(sse ? { events: parseSse(text) } : {}),
  };
}

/** The tokens the simulator itself billed for its answered requests. */
export function simTotals(requests: SimRequestRecord[]): {
  calls: number;
  prompt: number;
  completion: number;
  cached: number;
} {
  const answered = requests.filter((r) => r.status === 200);
  return {
    calls: answered.length,
    prompt: answered.reduce((n, r) => n + (r.usage?.prompt_tokens ?? 0), 0),
    completion: answered.reduce((n, r) => n + (r.usage?.completion_tokens ?? 0), 0),
    cached: answered.reduce((n, r) => n + (r.usage?.cached_tokens ?? 0), 0),
  };
}
