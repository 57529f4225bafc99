/**
 * `maestro temporal …`: the official Temporal CLI that Maestro provisioned (TEMPORAL_CLI_PATH,
 * `temporal` on PATH, or `.maestro/temporal-cli/`), with every argument passed through and the
 * address and namespace this Maestro uses, so the README's `temporal workflow signal` recipes
 * work without putting anything on PATH.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { embeddedPort } from '../../dev/runtime';
import { resolveTemporalCli } from '../../dev/temporal-cli';
import { logToStderr } from '../session';

/** Registers `maestro temporal`. */
export function registerTemporalCommand(program: Command): void {
  program
    .command('temporal')
    .description(
      'run the provisioned Temporal CLI with these arguments, e.g. `maestro temporal workflow signal --workflow-id <runId> --name approve --input \'{"by":"ana"}\'`',
    )
    .argument('[args...]', 'arguments for the `temporal` CLI')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      const config = loadConfig();
      const cli = await resolveTemporalCli({ maestroHome: config.home, log: logToStderr });
      const env = {
        ...process.env,
        TEMPORAL_ADDRESS: config.temporal.address ?? `localhost:${embeddedPort()}`,
        TEMPORAL_NAMESPACE: config.temporal.namespace,
      };
      process.exitCode = await new Promise<number>((resolve, reject) => {
        const child = spawn(cli.path, args, { stdio: 'inherit', env });
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
      });
    });
}
