/**
 * The `maestro` command line. Each command lives in commands/; this file wires them and turns
 * errors a person can fix into one clear paragraph instead of a stack trace. The executable is
 * cli.ts, which loads this module unless `maestro worker` relaunches itself first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { TRUST_CONFIG_VARIABLE } from '../config-trust';
import { printable } from '../shared/control-chars';
import { TemporalCliNotFoundError } from '../dev/temporal-cli';
import { DevServerStartError } from '../dev/dev-server';
import { explainPayloadError } from '../codec/aes-gcm-codec';
import { InputError } from './api';
import { NoWorkerError } from './errors';
import { registerCodecServerCommand } from './commands/codec-server';
import { registerDoctorCommand } from './commands/doctor';
import { EXIT, UnavailableError } from './exit-codes';
import { registerGateCommands } from './commands/gates';
import { registerInspectCommands } from './commands/inspect';
import { registerRunCommands } from './commands/run';
import { registerServeCommands } from './commands/serve';
import { registerSetupCommand } from './commands/setup';
import { registerTemporalCommand } from './commands/temporal';
import { registerWatchCommand } from './commands/watch';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/** Builds the program (exported for tests of argument handling). */
export function buildProgram(): Command {
  const program = new Command()
    .name('maestro')
    .description('Durable manager-worker LLM agent swarms on Temporal')
    .version(packageVersion())
    .showHelpAfterError('(run `maestro --help` for usage)')
    // Commander echoes a refused flag value: its control characters (ESC sequences from a hostile
    // value) are shown escaped, never sent to the terminal. Subcommands inherit this.
    .configureOutput({ outputError: (text, write) => write(printable(text)) })
    .option(
      '--trust-config',
      `use a maestro.config.json that defines MCP server commands or webhooks (sets ${TRUST_CONFIG_VARIABLE}=1 for this command)`,
    )
    .hook('preAction', (cmd) => {
      if (cmd.opts<{ trustConfig?: boolean }>().trustConfig) process.env[TRUST_CONFIG_VARIABLE] = '1';
    })
    .exitOverride(); // commander's own exits (1 for a bad flag) become ours (2), see fail()
  registerRunCommands(program);
  registerGateCommands(program);
  registerInspectCommands(program);
  registerWatchCommand(program);
  registerServeCommands(program);
  registerSetupCommand(program);
  registerCodecServerCommand(program);
  registerDoctorCommand(program);
  registerTemporalCommand(program);
  return program;
}

/** Runs the command line on this process's arguments and exits on failure with our exit codes. */
export function runCli(): void {
  buildProgram().parseAsync(process.argv).catch(fail);
}

const USER_ERRORS = [InputError, ConfigError, TemporalCliNotFoundError, DevServerStartError];

function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
  // Nothing to fix in the command: a worker must run (the README's table: "no worker ..." is 1).
  if (err instanceof UnavailableError || err instanceof NoWorkerError) {
    console.error(`maestro: ${err.message}`);
    process.exit(EXIT.failed);
  }
  if (USER_ERRORS.some((E) => err instanceof E)) {
    console.error(`maestro: ${(err as Error).message}`);
    process.exit(EXIT.badInput);
  }
  const payloadProblem = explainPayloadError(err);
  if (payloadProblem) {
    console.error(`maestro: ${payloadProblem}`);
    process.exit(EXIT.badInput);
  }
  console.error(`maestro: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.MAESTRO_DEBUG && err instanceof Error) console.error(err.stack);
  process.exit(EXIT.failed);
}
