/**
 * Shared plumbing of CLI commands: load configuration, bring up what is missing (dev server,
 * worker, simulated LLM) and always tear it down again, also on Ctrl-C.
 */
import { loadConfig, runRoles, type MaestroConfig } from '../config';
import { startLocalRuntime, type LocalRuntime, type RuntimeOptions } from '../dev/runtime';
import { MaestroClient } from './api';
import { EXIT } from './exit-codes';
import { connectClient } from './connection';
import { flushTracing } from '../telemetry/tracing';

/** What a command body gets. */
export interface Session {
  config: MaestroConfig;
  runtime: LocalRuntime;
  api: MaestroClient;
  log: (line: string) => void;
  /** Resolves on SIGINT/SIGTERM in a serving session (`serve: true`); never resolves otherwise. */
  interrupted: Promise<NodeJS.Signals>;
  /** Names the run this command follows, so Ctrl-C can say how to pick it up again. */
  follow: (runId: string) => void;
}

/** Logs progress to stderr, so stdout stays clean for `--json`. */
export const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Runs `body` inside a session and cleans up whatever happens. */
export async function withSession<T>(
  opts: Pick<
    RuntimeOptions,
    'worker' | 'simPort' | 'queues' | 'metricsAddress' | 'server' | 'command' | 'codecPort' | 'ownWebhooks'
  > & {
    log?: (line: string) => void;
    /** A serving command (dev, worker): a signal ends the body normally, exit code 0. */
    serve?: boolean;
  },
  body: (s: Session) => Promise<T>,
): Promise<T> {
  const log = opts.log ?? logToStderr;
  const config = loadConfig();
  const runtime = await startLocalRuntime(config, { ...opts, log });
  let interrupted = false;
  let signalled: (sig: NodeJS.Signals) => void = () => undefined;
  const interruptedPromise = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let runId: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (opts.serve) {
      log(`${sig}: shutting down (workers drain first)...`);
      return signalled(sig);
    }
    if (interrupted) return;
    interrupted = true;
    log(`\n${interruptLine(sig, runtime, runId)}`);
    void runtime.stop().finally(() => process.exit(EXIT.interrupted));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const client = await connectClient(config, runtime.address);
    try {
      const runConfig = runtime.config ?? config; // a private task queue when worker-choice.ts chose one
      const api = new MaestroClient(client, runConfig.temporal.taskQueue, {
        roles: runRoles(runConfig),
        bossModel: runConfig.boss.model,
        llmTimeoutMs: runConfig.llm.timeoutMs,
        notify: runConfig.notify,
        home: runConfig.home,
        ...((runConfig.webUiUrl ?? runtime.uiUrl) ? { webUiUrl: runConfig.webUiUrl ?? runtime.uiUrl } : {}),
      });
      return await body({
        config: runConfig,
        runtime,
        api,
        log,
        interrupted: interruptedPromise,
        follow: (id) => (runId = id),
      });
    } finally {
      await client.connection.close();
      await flushTracing(); // the client's spans (start, decisions) before the process ends
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await runtime.stop();
  }
}

/** The one line Ctrl-C prints: what stops, and what happens to the run (with the commands to resume it). */
export function interruptLine(sig: NodeJS.Signals, runtime: LocalRuntime, runId?: string): string {
  const stopping = [
    runtime.workers.length > 0 ? 'the worker' : '',
    runtime.devServer ? 'the Temporal server this command started' : '',
  ].filter(Boolean);
  const what = stopping.length > 0 ? `stopping ${stopping.join(', then ')}` : 'stopped';
  if (!runId) return `${sig}: ${what}.`;
  if (runtime.workers.length === 0) return `${sig}: ${what}; run ${runId} goes on.`;
  const resume = runtime.devServer ? 'maestro dev' : 'maestro worker';
  return `${sig}: ${what}. Run ${runId} is saved and waits until a worker runs: \`${resume}\`, then \`maestro watch ${runId}\`.`;
}
