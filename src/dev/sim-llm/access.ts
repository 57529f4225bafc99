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

/** Why an admin write must be refused (status and body), or undefined when it may proceed. */
export function adminWriteRefusal(req: IncomingMessage): { status: number; body: OpenAiErrorBody } | undefined {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return undefined;
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const ownOrigin = `http://${req.headers.host ?? ''}`;
  if ((origin !== undefined && origin !== ownOrigin) || site === 'cross-site' || site === 'same-site') {
    return {
      status: 403,
      body: errorBody(
        `Refused a cross-origin ${method} to the simulated server's admin routes (Origin: ${origin ?? 'none'}, Sec-Fetch-Site: ${String(site ?? 'none')}). Send admin requests from a script or the CLI, not from a web page.`,
        'invalid_request_error',
        'cross_origin_refused',
      ),
    };
  }
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
