/** A real HTTP server that records JSON posts, standing in for Slack or a team's own webhook. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One post the receiver got. */
export interface ReceivedPost {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A running receiver; `status` is what it answers (default 200). */
export interface WebhookReceiver {
  url: (path?: string) => string;
  posts: ReceivedPost[];
  /** Resolves with the first post matching `pred` (already received or future). */
  waitFor: (pred: (p: ReceivedPost) => boolean, timeoutMs?: number) => Promise<ReceivedPost>;
  close: () => Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1; paths starting with /status-NNN answer NNN. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const posts: ReceivedPost[] = [];
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      let body: unknown = data;
      try {
        body = JSON.parse(data);
      } catch {
        // keep the raw text: the test then shows what was sent
      }
      posts.push({ path: req.url ?? '/', headers: req.headers, body });
      for (const w of waiters.splice(0)) w();
      const status = /^\/status-(\d{3})/.exec(req.url ?? '')?.[1];
      res.writeHead(status ? Number(status) : 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p = '/hook') => `http://127.0.0.1:${port}${p}`,
    posts,
    waitFor: async (pred, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = posts.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching post in ${timeoutMs} ms; got: ${JSON.stringify(posts.map((p) => p.body))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
