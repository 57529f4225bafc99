/**
 * Shared plumbing of CLI commands: load configuration, bring up what is missing (dev server,
 * worker, simulated LLM) and always tear it down again, also on Ctrl-C.
 */
import { loadConfig, type MaestroConfig } from '../config';
import { startLocalRuntime, type LocalRuntime, type RuntimeOptions } from '../dev/runtime';
import { MaestroClient } from './api';
import { connectClient } from './connection';

/** What a command body gets. */
export interface Session {
  config: MaestroConfig;
  runtime: LocalRuntime;
  api: MaestroClient;
  log: (line: string) => void;
}

/** Logs progress to stderr, so stdout stays clean for `--json`. */
export const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Runs `body` inside a session and cleans up whatever happens. */
export async function withSession<T>(
  opts: Pick<RuntimeOptions, 'worker' | 'simPort' | 'queues'> & { log?: (line: string) => void },
  body: (s: Session) => Promise<T>,
): Promise<T> {
  const log = opts.log ?? logToStderr;
  const config = loadConfig();
  const runtime = await startLocalRuntime(config, { ...opts, log });
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
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
      return await body({ config, runtime, api: new MaestroClient(client, config.temporal.taskQueue), log });
    } finally {
      await client.connection.close();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await runtime.stop();
  }
}
