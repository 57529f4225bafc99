/**
 * Follows a run from the terminal by polling its status query and printing what changed, one
 * line per change, until the run closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MaestroClient } from './api';
import { statusQuery } from '../shared/messages';
import type { RunStatus } from '../shared/types';
import { usd } from './format';

/** Prints changes of a run's status until it is no longer running. */
export async function followRun(
  api: MaestroClient,
  runId: string,
  log: (line: string) => void,
  pollMs = 250,
): Promise<void> {
  let last: RunStatus | undefined;
  for (;;) {
    const desc = await api.client.workflow.getHandle(runId).describe();
    if (desc.status.name !== 'RUNNING') return;
    let now: RunStatus;
    try {
      now = await api.client.workflow.getHandle(runId).query(statusQuery);
    } catch {
      await sleep(pollMs);
      continue; // no worker has picked the run up yet
    }
    for (const line of changes(last, now)) log(line);
    last = now;
    await sleep(pollMs);
  }
}

/** Lines describing what changed between two statuses. */
export function changes(before: RunStatus | undefined, now: RunStatus): string[] {
  const out: string[] = [];
  if (now.tickets.length > 0 && !before?.tickets.length) {
    out.push(
      `Plan ready after ${now.planAttempts} attempt(s): ${now.tickets.length} tickets — ${now.planSummary ?? ''}`,
    );
  } else if (now.phase === 'planning' && before && before.planAttempts !== now.planAttempts) {
    out.push(`Re-planning (attempt ${now.planAttempts}): the previous plan was invalid`);
  }
  if (before?.phase !== now.phase && now.phase !== 'executing') out.push(`Phase: ${now.phase}`);
  const prev = new Map(before?.tickets.map((t) => [t.id, t]) ?? []);
  for (const t of now.tickets) {
    const p = prev.get(t.id);
    if (p?.state === t.state) continue;
    const extra =
      t.state === 'accepted' || t.state === 'escalated'
        ? ` after ${t.attempts} attempt(s), ${usd(t.usage.usd)}`
        : t.error && t.state !== 'pending'
          ? ` — ${t.error}`
          : '';
    if (t.state !== 'pending' || p) out.push(`  ${t.id} [${t.role}] ${t.title}: ${t.state}${extra}`);
  }
  return out;
}
