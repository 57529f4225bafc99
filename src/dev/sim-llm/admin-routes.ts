/**
 * The simulated server's admin endpoints (`/_sim/...`): health, the request log and fault
 * injection, so tests in other processes can steer and inspect a running server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminWriteRefusal, isAuthorized, unauthorizedBody } from './access';
import { validateFault, type FaultQueue } from './faults';
import { readBody, sendJson } from './http-util';
import { errorBody } from './openai-format';
import { SIM_MODEL, type FaultSpec, type SimRequestRecord } from './types';

/**
 * Serves an admin route; false when `path` is not one. `records` is cleared in place. The routes
 * want the server's API key when it has one, and refuse cross-origin writes (see access.ts).
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  records: SimRequestRecord[],
  faults: FaultQueue,
  requireApiKey?: string,
): Promise<boolean> {
  if (!isAuthorized(req, requireApiKey)) {
    sendJson(res, 401, unauthorizedBody());
    return true;
  }
  const refusal = adminWriteRefusal(req);
  if (refusal) {
    sendJson(res, refusal.status, refusal.body);
    return true;
  }
  const route = `${req.method ?? 'GET'} ${path}`;
  if (route === 'GET /_sim/health') {
    sendJson(res, 200, { ok: true, model: SIM_MODEL, requests: records.length, faults: faults.size });
  } else if (route === 'GET /_sim/requests') {
    sendJson(res, 200, records);
  } else if (route === 'DELETE /_sim/requests') {
    records.length = 0;
    sendJson(res, 200, { ok: true });
  } else if (route === 'DELETE /_sim/faults') {
    faults.clear();
    sendJson(res, 200, { ok: true });
  } else if (route === 'POST /_sim/faults') {
    let specs: FaultSpec[];
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      specs = (Array.isArray(parsed) ? parsed : [parsed]).map(validateFault);
    } catch (err) {
      sendJson(res, 400, errorBody(`Bad fault: ${(err as Error).message}`, 'invalid_request_error', 'invalid_fault'));
      return true;
    }
    specs.forEach((f) => faults.add(f));
    sendJson(res, 200, { ok: true, queued: specs.length });
  } else {
    return false;
  }
  return true;
}
