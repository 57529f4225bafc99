/**
 * Who may use the simulated server: the API key it was started with (for `/v1/*` and the
 * `/_sim/*` admin routes alike) and, for admin writes, no cross-origin browser requests. A web
 * page on another site can send a "simple" `text/plain` POST without a CORS preflight, so the
 * server itself must refuse it, or any page a tester visits could inject faults or wipe the log.
 */
import type { IncomingMessage } from 'node:http';
import { errorBody, type OpenAiErrorBody } from './openai-format';

/** Whether a request carries `Authorization: Bearer <key>` when the server wants a key. */
export function isAuthorized(req: IncomingMessage, requireApiKey: string | undefined): boolean {
  return !requireApiKey || req.headers.authorization === `Bearer ${requireApiKey}`;
}

/** The 401 body for a missing or wrong key, in OpenAI's format (clients raise AuthenticationError). */
export function unauthorizedBody(): OpenAiErrorBody {
  return errorBody(
    'Incorrect API key provided. The simulated server wants the key it was started with.',
    'invalid_request_error',
    'invalid_api_key',
  );
}

/** A refused request: the HTTP status and the OpenAI-style body that says why. */
export interface Refusal {
  status: number;
  body: OpenAiErrorBody;
}

/**
 * 403 for a write a browser sent from another origin (its Origin or Sec-Fetch-Site says so), else
 * undefined. Clients that are not browsers (the openai SDK, curl, the CLI) send neither header.
 */
export function crossOriginRefusal(req: IncomingMessage, routes: string, advice: string): Refusal | undefined {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return undefined;
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const ownOrigin = `http://${req.headers.host ?? ''}`;
  if ((origin !== undefined && origin !== ownOrigin) || site === 'cross-site' || site === 'same-site') {
    return {
      status: 403,
      body: errorBody(
        `Refused a cross-origin ${method} to the simulated server's ${routes} (Origin: ${origin ?? 'none'}, Sec-Fetch-Site: ${String(site ?? 'none')}). ${advice}`,
        'invalid_request_error',
        'cross_origin_refused',
      ),
    };
  }
  return undefined;
}

/**
 * Why a chat completion must be refused, or undefined: a page on another site could otherwise
 * consume the faults a test queued and write into the request log tests read.
 */
export function chatRefusal(req: IncomingMessage): Refusal | undefined {
  return crossOriginRefusal(req, 'chat completions', 'Call it from a script or an SDK, not from a web page.');
}

/** Why an admin write must be refused (status and body), or undefined when it may proceed. */
export function adminWriteRefusal(req: IncomingMessage): Refusal | undefined {
  const method = req.method ?? 'GET';
  const crossOrigin = crossOriginRefusal(
    req,
    'admin routes',
    'Send admin requests from a script or the CLI, not from a web page.',
  );
  if (crossOrigin) return crossOrigin;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (method === 'POST' && type !== 'application/json') {
    return {
      status: 415,
      body: errorBody(
        `Admin POSTs must send Content-Type: application/json (got ${type ? `"${type}"` : 'none'}).`,
        'invalid_request_error',
        'unsupported_media_type',
      ),
    };
  }
  return undefined;
}
