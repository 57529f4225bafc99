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
    const m = /^temporal_num_pollers(?:\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    if (m) total = (total ?? 0) + Number(m[1]);
  }
  return total;
}

/** Fetches the endpoint (bounded by `timeoutMs`) and judges it. */
export async function checkWorkerHealth(url = DEFAULT_METRICS_URL, timeoutMs = 4000): Promise<WorkerHealth> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, detail: `${url} answered HTTP ${res.status}` };
    text = (await res.text()).slice(0, 8 * 1024 * 1024);
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
