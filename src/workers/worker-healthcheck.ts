/**
 * The container healthcheck of `maestro worker --metrics` (docker-compose.yml runs
 * `node dist/workers/worker-healthcheck.js http://127.0.0.1:9464/metrics`): healthy when the
 * worker's Prometheus endpoint answers and shows the worker polling Temporal (a live process whose
 * worker stopped polling, e.g. after losing the server, is not healthy). Exits 0 or 1 with a line
 * saying why; the image has no curl, so it is plain Node.
 */

/** What the check found. */
export interface WorkerHealth {
  ok: boolean;
  detail: string;
}

/** Default endpoint: the one docker-compose.yml's worker serves. */
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:9464/metrics';

/** Pollers the worker runs now, summed over task types, from the Prometheus text (undefined: no such metric). */
export function pollerCount(metrics: string): number | undefined {
  let total: number | undefined;
  for (const line of metrics.split('\n')) {
    // Label values are quoted and may hold } or spaces (a task queue name): skip them whole.
    const m = /^temporal_num_pollers(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?[ \t]+(\S+)/.exec(line);
    if (!m) continue;
    const n = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/.test(m[1]!) ? Number(m[1]) : NaN;
    total = (total ?? 0) + (Number.isFinite(n) ? n : 0);
  }
  return total;
}

/** The most of the body read: a real exposition is tens of KB; the check runs in the worker's container. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

async function readCapped(res: Response): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

/** Fetches the endpoint (bounded by `timeoutMs`) and judges it. */
export async function checkWorkerHealth(url = DEFAULT_METRICS_URL, timeoutMs = 4000): Promise<WorkerHealth> {
  let text: string;
  try {
    // A redirect would check some other endpoint: this worker's is the one named.
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (res.status !== 200) return { ok: false, detail: `${url} answered HTTP ${res.status}` };
    text = await readCapped(res);
  } catch (err) {
    return {
      ok: false,
      detail: `${url} did not answer (${(err as Error).message}): is the worker running with --metrics?`,
    };
  }
  const pollers = pollerCount(text);
  if (pollers === undefined) return { ok: false, detail: `${url} shows no temporal_num_pollers: no worker polls yet` };
  if (pollers <= 0) return { ok: false, detail: `${url}: the worker runs no pollers (lost Temporal?)` };
  return { ok: true, detail: `worker healthy: ${pollers} poller(s)` };
}

if (require.main === module) {
  void checkWorkerHealth(process.argv[2] ?? DEFAULT_METRICS_URL).then((h) => {
    (h.ok ? process.stdout : process.stderr).write(`${h.detail}\n`);
    process.exit(h.ok ? 0 : 1);
  });
}
