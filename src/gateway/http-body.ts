/**
 * Reading a CLI's request body without trusting it: a declared or actual size over the cap stops
 * reading at once (413, and the connection is closed so the rest is never read), and the server's
 * own timeouts (server.ts) end a client that sends its headers or body byte by byte.
 */
import type { IncomingMessage } from 'node:http';

/** The body, or why it could not be read. */
export type BodyResult = { ok: true; text: string } | { ok: false; tooLarge: boolean; message: string };

/** Reads the whole body as UTF-8 text, at most `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const tooLarge = (): BodyResult => ({
    ok: false,
    tooLarge: true,
    message: `the request body is over the Maestro gateway's limit of ${maxBytes} bytes`,
  });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) {
        chunks.length = 0;
        req.pause();
        finish(tooLarge());
      } else chunks.push(c);
    });
    req.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', (err) =>
      finish({ ok: false, tooLarge: false, message: `could not read the request: ${err.message}` }),
    );
    req.on('close', () => finish({ ok: false, tooLarge: false, message: 'the client closed the request' }));
  });
}
