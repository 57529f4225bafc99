/**
 * `maestro temporal …`: the official Temporal CLI that Maestro provisioned (TEMPORAL_CLI_PATH,
 * `temporal` on PATH, or `.maestro/temporal-cli/`), with every argument passed through and the
 * address and namespace this Maestro uses, so the README's `temporal workflow signal` recipes
 * work without putting anything on PATH. Without TEMPORAL_ADDRESS it starts the embedded server
 * when none runs (as `maestro status` and `maestro result` do, and stops it again afterwards), so
 * reading a history needs no manual `maestro dev` first.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { embeddedPort } from '../../dev/runtime';
import { resolveTemporalCli } from '../../dev/temporal-cli';
import { logToStderr, withSession } from '../session';

/**
 * First arguments of `temporal` that never talk to a Maestro server (help, version, its own
 * `server start-dev`, local env/config files): no embedded server is started for them.
 */
const OFFLINE_COMMANDS: ReadonlySet<string> = new Set([
  '',
  'help',
  '--help',
  '-h',
  'version',
  '--version',
  '-v',
  'server',
  'env',
  'config',
  'completion',
]);

/**
 * Whether `maestro temporal <args>` needs the embedded server (so it is started when missing): not
 * for offline commands, help, or a command that names its own server with `--address` (it would
 * never use the embedded one, which would only be started and stopped around it).
 */
export function temporalNeedsServer(args: readonly string[]): boolean {
  return (
    !OFFLINE_COMMANDS.has(args[0] ?? '') &&
    !args.includes('--help') &&
    !args.includes('-h') &&
    !args.some((a) => a === '--address' || a.startsWith('--address='))
  );
}

/** Registers `maestro temporal`. */
export function registerTemporalCommand(program: Command): void {
  program
    .command('temporal')
    .description(
      'run the provisioned Temporal CLI with these arguments, e.g. `maestro temporal workflow signal --workflow-id <runId> --name approve --input \'{"by":"ana"}\'` (starts the embedded server when none runs)',
    )
    .argument('[args...]', 'arguments for the `temporal` CLI')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      const config = loadConfig();
      const cli = await resolveTemporalCli({ maestroHome: config.home, log: logToStderr });
      const run = (address: string) =>
        runTemporal(cli.path, args, {
          ...process.env,
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: config.temporal.namespace,
        });
      if (config.temporal.address || !temporalNeedsServer(args)) {
        process.exitCode = await run(config.temporal.address ?? `localhost:${embeddedPort()}`);
        return;
      }
      process.exitCode = await withSession({ worker: 'never', server: 'start', command: 'temporal' }, ({ runtime }) =>
        run(runtime.address),
      );
    });
}

function runTemporal(cliPath: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(cliPath, args, { stdio: 'inherit', env });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
  });
}
