/**
 * `MaestroClient.events(runId)`: the events `maestro watch --json` prints, as an async iterator
 * for scripts. Same source (polling the run's status query and its tickets'), so it keeps going
 * while no worker answers (a restart, a deploy) and ends after the `end` event.
 */
import type { MaestroClient } from '../api';
import { watchEvents, type WatchEvent } from './events';
import { watchSnapshots } from './poll';
import type { WatchSnapshot } from './render';

/** How often to look at the run (default every 500 ms) and how long one query may take. */
export interface RunEventsOptions {
  intervalMs?: number;
  queryTimeoutMs?: number;
}

/** Events of `runId` from now until it ends; the first ones describe its current state. */
export async function* runEvents(
  api: MaestroClient,
  runId: string,
  opts: RunEventsOptions = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const namespace = api.client.options.namespace;
  let last: WatchSnapshot | undefined;
  const seenToolCalls = new Set<string>();
  const snapshots = watchSnapshots(api, runId, {
    intervalMs: opts.intervalMs ?? 500,
    ...(opts.queryTimeoutMs !== undefined ? { queryTimeoutMs: opts.queryTimeoutMs } : {}),
  });
  for await (const snap of snapshots) {
    yield* watchEvents(last, snap, new Date(), namespace, seenToolCalls);
    last = snap;
  }
}
