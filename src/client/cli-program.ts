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
import { terminalJson } from '../shared/model-text';
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
    .hook('preAction', (cmd, action) => {
      if (cmd.opts<{ trustConfig?: boolean }>().trustConfig) process.env[TRUST_CONFIG_VARIABLE] = '1';
      if (action.opts<{ json?: boolean }>().json === true) jsonOutput = true;
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
  // A reader that stops early (`maestro watch --json | head`) closes the pipe: that ends the
  // command quietly, as for any Unix tool, instead of an unhandled EPIPE and its stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  buildProgram().parseAsync(process.argv).catch(fail);
}

const USER_ERRORS = [InputError, ConfigError, TemporalCliNotFoundError, DevServerStartError];

/** Set when the running command was given `--json`: its errors go to stdout as JSON too. */
let jsonOutput = false;

/** The exit code and the one-paragraph message of an error that ends the command. */
function failureOf(err: unknown): { exitCode: number; message: string } {
  // Nothing to fix in the command: a worker must run (the README's table: "no worker ..." is 1).
  if (err instanceof UnavailableError || err instanceof NoWorkerError)
    return { exitCode: EXIT.failed, message: err.message };
  if (USER_ERRORS.some((E) => err instanceof E)) return { exitCode: EXIT.badInput, message: (err as Error).message };
  const payloadProblem = explainPayloadError(err);
  if (payloadProblem) return { exitCode: EXIT.badInput, message: payloadProblem };
  return { exitCode: EXIT.failed, message: err instanceof Error ? err.message : String(err) };
}

function fail(err: unknown): never {
  if (err instanceof CommanderError) {
    const exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    // A refused flag stops before the command runs: `--json` anywhere on the line asked for JSON.
    if (exitCode !== EXIT.ok && process.argv.includes('--json')) printJsonError(err.message, exitCode);
    process.exit(exitCode);
  }
  const { exitCode, message } = failureOf(err);
  // The message may quote a config file, a server or a run (a cloned repo's config key, say):
  // its control characters are shown escaped, never sent to the terminal.
  console.error(`maestro: ${printable(message)}`);
  if (exitCode === EXIT.failed && process.env.MAESTRO_DEBUG && err instanceof Error) console.error(err.stack);
  // Scripts that asked for JSON read stdout: every outcome, errors included, is JSON there.
  if (jsonOutput) printJsonError(message, exitCode);
  process.exit(exitCode);
}

/**
 * `{"error": "...", "exitCode": N}` on stdout, on one line so that it is also one more event of
 * `maestro watch --json`'s JSON lines (the message escaped like every JSON we print).
 */
function printJsonError(message: string, exitCode: number): void {
  process.stdout.write(`${terminalJson({ error: message, exitCode })}\n`);
}
