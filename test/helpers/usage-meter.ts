/**
 * A pass-through HTTP front that records the `usage` an OpenAI-compatible server put in each
 * chat-completion answer (a streamed one's in its final usage chunk). Tests compare Maestro's bill with what a server we did not write (the
 * llama.cpp engine) counted, so the meter keeps the server's own figures, untouched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The server's own token counts of one answered request. */
export interface MeteredCall {
  status: number;
  promptTokens: number;
  completionTokens: number;
}

/** A running meter in front of `upstream` (a base URL ending in /v1). */
export interface UsageMeter {
  baseUrl: string;
  calls(): MeteredCall[];
  close(): Promise<void>;
}

/** Starts a meter on a free local port that forwards every request to `upstream`. */
export async function startUsageMeter(upstream: string): Promise<UsageMeter> {
  const calls: MeteredCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const answer = await fetch(upstream.replace(/\/v1$/, '') + (req.url ?? ''), {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(body.length > 0 ? { body } : {}),
        });
        const text = await answer.text();
        if (req.url?.endsWith('/chat/completions')) {
          const usage = usageIn(text, answer.headers.get('content-type') ?? '');
          calls.push({
            status: answer.status,
            promptTokens: usage?.prompt_tokens ?? 0,
            completionTokens: usage?.completion_tokens ?? 0,
          });
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls: () => [...calls],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Usage = { prompt_tokens?: number; completion_tokens?: number };

/** The usage of an answer: its body's, or a streamed answer's final usage chunk. */
function usageIn(text: string, contentType: string): Usage | undefined {
  if (!contentType.includes('text/event-stream')) return (JSON.parse(text) as { usage?: Usage }).usage;
  let usage: Usage | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    usage = (JSON.parse(line.slice(6)) as { usage?: Usage }).usage ?? usage;
  }
  return usage;
}
