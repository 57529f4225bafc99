/**
 * The logger Maestro installs in the Temporal SDK's Runtime (RuntimeOptions.logger, documented
 * for customising what the SDK prints): the SDK's DefaultLogger at the chosen level, minus the
 * one warning that is noise here. Role workers (`maestro worker --roles coder`, and the role
 * queues `maestro run` polls) serve activities only, by design, and the SDK warns "No workflows
 * registered, not polling for workflow tasks" once per such worker: four lines for the README's
 * documented setup that say nothing is wrong. Maestro says what each worker polls instead.
 */
import { DefaultLogger, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/** The SDK's warning for a worker without workflows (@temporalio/worker, worker.ts `workflow$`). */
export const NO_WORKFLOWS_WARNING = 'No workflows registered, not polling for workflow tasks';

/** Whether Maestro drops this SDK message: only that exact warning, nothing else. */
export function isDroppedSdkMessage(message: string): boolean {
  return message === NO_WORKFLOWS_WARNING;
}

/** A Logger that forwards everything to `inner` except {@link NO_WORKFLOWS_WARNING}. */
export class MaestroSdkLogger implements Logger {
  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (!isDroppedSdkMessage(message)) this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The Runtime's logger at `level` (DefaultLogger's output on stderr), without the dropped warning. */
export function maestroSdkLogger(level: LogLevel): Logger {
  return new MaestroSdkLogger(new DefaultLogger(level));
}
