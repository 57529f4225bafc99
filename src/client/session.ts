/**
 * Shared plumbing of CLI commands: load configuration, bring up what is missing (dev server,
 * worker, simulated LLM) and always tear it down again, also on Ctrl-C.
 */
import { loadConfig, runRoles, type MaestroConfig } from '../config';
import { startLocalRuntime, type LocalRuntime, type RuntimeOptions } from '../dev/runtime';
import { MaestroClient } from './api';
import { connectClient } from './connection';

/** What a command body gets. */
export interface Session {
  config: MaestroConfig;
  runtime: LocalRuntime;
  api: MaestroClient;
  log: (line: string) => void;
  /** Resolves on SIGINT/SIGTERM in a serving session (`serve: true`); never resolves otherwise. */
  interrupted: Promise<NodeJS.Signals>;
}

/** Logs progress to stderr, so stdout stays clean for `--json`. */
export const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Runs `body` inside a session and cleans up whatever happens. */
export async function withSession<T>(
  opts: Pick<RuntimeOptions, 'worker' | 'simPort' | 'queues' | 'metricsAddress'> & {
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
  const onSignal = (sig: NodeJS.Signals) => {
    if (opts.serve) {
      log(`${sig}: shutting down (workers drain first)...`);
      return signalled(sig);
    }
    if (interrupted) return;
    interrupted = true;
    log(`\n${sig}: stopping what this command started (the run itself continues on Temporal)...`);
    void runtime.stop().finally(() => process.exit(130));
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
      return await body({ config: runConfig, runtime, api, log, interrupted: interruptedPromise });
    } finally {
      await client.connection.close();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await runtime.stop();
  }
}
