/**
 * The exit codes of every `maestro` command, defined once: the README's "Exit codes" table lists
 * exactly these, and tests check each of them through the real CLI.
 */

/** Exit codes, by meaning. */
export const EXIT = {
  /** Done: the command did what was asked; for a run, every ticket was accepted. */
  ok: 0,
  /** The run failed or was cancelled, or an operation could not be done (no server, no worker). */
  failed: 1,
  /** Bad input or configuration: a flag, a goal, a run id, an output folder; the message says what to fix. */
  badInput: 2,
  /** The run finished, but not completely: some tickets not accepted, stopped at a budget, or rejected. */
  partial: 3,
  /** Interrupted with Ctrl-C / SIGTERM; the run itself is kept by Temporal. */
  interrupted: 130,
} as const;

/**
 * Something the command needs is not there (no Temporal server, no worker answering): not the
 * person's input, but the message says what to start. Exits 1 without a stack trace.
 */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}
