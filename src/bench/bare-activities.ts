/** The bare baseline's only activity: waits `latencyMs`, standing in for an LLM call. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Activities of the bare-Temporal baseline workflows. */
export interface BareActivities {
  bareStep(input: { latencyMs: number }): Promise<void>;
}

/** The baseline's activity implementations. */
export function createBareActivities(): BareActivities {
  return {
    async bareStep({ latencyMs }) {
      if (latencyMs > 0) await sleep(latencyMs);
    },
  };
}
