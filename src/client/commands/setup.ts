/**
 * `maestro setup`: prepares an existing Temporal cluster (or Temporal Cloud namespace) once, so
 * runs there are as inspectable as on the dev server: the namespace exists and Maestro's search
 * attributes are registered. It connects to what is configured and never starts a dev server.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { ClusterSetupError, setupCluster } from '../cluster-setup';
import { connectClient, LOCAL_ADDRESS } from '../connection';
import { parseIntOption } from '../options';
import { logToStderr } from '../session';
import { InputError } from '../api';

/** Default retention of closed runs in a namespace `maestro setup` creates. */
export const DEFAULT_RETENTION_DAYS = 7;

/** Registers `maestro setup`. */
export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description(
      "prepare an existing Temporal cluster: create the namespace if missing and register Maestro's search attributes (idempotent)",
    )
    .option(
      '--retention <days>',
      `retention of closed runs when the namespace is created (1-3650 days, default ${DEFAULT_RETENTION_DAYS})`,
      parseIntOption('--retention', 1, 3650),
      DEFAULT_RETENTION_DAYS,
    )
    .option('--json', 'print what was done as JSON')
    .action(async (flags: { retention: number; json?: boolean }) => {
      const config = loadConfig();
      const address = config.temporal.address ?? LOCAL_ADDRESS;
      const log = flags.json ? logToStderr : (line: string) => console.log(line);
      log(`Temporal at ${address}${config.temporal.address ? '' : ' (TEMPORAL_ADDRESS not set)'}:`);
      const client = await connectClient(config, address).catch((err: Error) => {
        const cause = /^(Cannot reach Temporal at [^)]*\))/.exec(err.message)?.[1] ?? err.message;
        throw new InputError(
          `${cause}. \`maestro setup\` prepares an existing cluster: set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or TEMPORAL_TLS as needed). ` +
            'The embedded dev server (`maestro dev`) needs no setup.',
        );
      });
      try {
        const report = await setupCluster(client, {
          namespace: config.temporal.namespace,
          retentionDays: flags.retention,
          log,
        });
        if (flags.json) console.log(JSON.stringify({ address, ...report }, null, 2));
        else
          log(
            'Done: runs on this namespace record their phase, roles and cost as search attributes; filter them with `maestro list --phase executing` or in the Web UI.',
          );
      } catch (err) {
        if (err instanceof ClusterSetupError) throw new InputError(err.message);
        throw err;
      } finally {
        await client.connection.close();
      }
    });
}
