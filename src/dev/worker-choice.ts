/**
 * Which worker runs a `maestro run`: the command used to hand the run to whatever worker polled
 * the task queue, possibly one with another LLM provider and another MAESTRO_HOME, without a word.
 * Workers advertise their LLM settings in their identity (workers/llm-fingerprint.ts); this
 * compares them with the caller's and decides, saying plainly what happens:
 * - nobody polls: start workers here (as before);
 * - every poller has the caller's settings: use them;
 * - the caller sets no LLM provider (simulated default): use the running workers, naming them and
 *   their settings;
 * - the caller brings its own settings and a poller differs: run on a private task queue with
 *   workers inside this command, so the caller's settings are the ones used.
 */
import { randomBytes } from 'node:crypto';
import type { MaestroConfig } from '../config';
import { describeLlmSettings, llmFingerprint, llmSettingsOf, parseWorkerIdentity } from '../workers/llm-fingerprint';
import type { QueuePoller } from '../client/pollers';

/** What `maestro run` does about workers; `notice` is what it tells the person (absent: nothing to say). */
export type WorkerChoice =
  | { kind: 'start' }
  /** `theirs`: the workers' LLM settings differ from the caller's. */
  | { kind: 'use'; notice: string; theirs: boolean }
  | { kind: 'private'; config: MaestroConfig; notice: string };

/** A worker as a person reads it: its identity, or a placeholder when it has none. */
function nameOf(p: QueuePoller): string {
  return p.identity || '(a worker without an identity)';
}

/** Decides, from the caller's configuration and the queue's pollers, as the module comment says. */
export function chooseWorker(config: MaestroConfig, pollers: readonly QueuePoller[]): WorkerChoice {
  if (pollers.length === 0) return { kind: 'start' };
  const queue = config.temporal.taskQueue;
  const mine = llmSettingsOf(config);
  const myFingerprint = llmFingerprint(mine);
  const others = pollers.filter((p) => parseWorkerIdentity(p.identity).fingerprint !== myFingerprint);
  const names = pollers.map(nameOf).join(', ');
  if (others.length === 0) {
    return {
      kind: 'use',
      theirs: false,
      notice: `The run goes to the worker(s) already polling task queue ${queue}, which use your LLM settings (${describeLlmSettings(mine)}): ${names}.`,
    };
  }
  const theirs = others
    .map((p) => {
      const { settings } = parseWorkerIdentity(p.identity);
      return `${nameOf(p)}${settings ? '' : ' (does not advertise its LLM settings)'}`;
    })
    .join(', ');
  if (config.llm.simulated) {
    return {
      kind: 'use',
      theirs: true,
      notice: `Note: your environment sets no LLM provider, so the run goes to the worker(s) already polling task queue ${queue}, with THEIR LLM settings and MAESTRO_HOME: ${theirs}. To use your own provider instead, set OPENAI_API_KEY / OPENAI_BASE_URL.`,
    };
  }
  const privateQueue = `${queue}-run-${randomBytes(4).toString('hex')}`;
  return {
    kind: 'private',
    config: {
      ...config,
      temporal: { ...config.temporal, taskQueue: privateQueue },
      // Every role runs on the private queue's worker, with the caller's settings.
      roles: config.roles.map(({ taskQueue: _ignored, ...role }) => role),
    },
    notice: `The worker(s) polling task queue ${queue} use other LLM settings than yours: ${theirs}. This run uses yours (${describeLlmSettings(mine)}) on its own task queue ${privateQueue}, executed by a worker inside this command. If this command stops before the run ends, resume it with these settings and \`MAESTRO_TASK_QUEUE=${privateQueue} maestro worker\`.`,
  };
}

/**
 * For `maestro start`, which never starts a worker: who will run the run, in one line; undefined
 * when every polling worker has the caller's LLM settings (nothing a person needs to know).
 */
export function startedRunNotice(config: MaestroConfig, pollers: readonly QueuePoller[]): string | undefined {
  const queue = config.temporal.taskQueue;
  if (pollers.length === 0)
    return `No worker polls task queue ${queue} yet: the run waits until one does (\`maestro dev\` or \`maestro worker\`).`;
  const mine = llmFingerprint(llmSettingsOf(config));
  if (pollers.every((p) => parseWorkerIdentity(p.identity).fingerprint === mine)) return undefined;
  const named = pollers.map((p) => {
    const { fingerprint } = parseWorkerIdentity(p.identity);
    const note =
      fingerprint === mine
        ? 'your LLM settings'
        : fingerprint
          ? 'other LLM settings than yours'
          : 'does not advertise its LLM settings';
    return `${nameOf(p)} (${note})`;
  });
  return `The run goes to the worker(s) polling task queue ${queue}: ${named.join(', ')}.`;
}
