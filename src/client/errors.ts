/**
 * Errors of the client library, typed so scripts can tell "fix your input" from "the run is
 * gone" from "nobody is serving it" without parsing messages. The CLI prints the same messages
 * (and exits 2 for every InputError), so a script and a person read the same words.
 */

/** Common base of every error Maestro's client throws on purpose. */
export class MaestroError extends Error {
  override name = 'MaestroError';
}

/** Input a person or script must fix (empty goal, bad decision, ...); the message says how. */
export class InputError extends MaestroError {
  override name = 'InputError';
}

/** No run with this id exists in the namespace (a typo, another namespace, or past retention). */
export class RunNotFoundError extends InputError {
  override name = 'RunNotFoundError';
  constructor(
    readonly runId: string,
    message = `There is no run with id ${runId}; see \`maestro list\`.`,
  ) {
    super(message);
  }
}

/** The run has already ended, so it takes no more decisions or budget changes. */
export class RunEndedError extends InputError {
  override name = 'RunEndedError';
  constructor(
    readonly runId: string,
    /** Temporal's execution status: COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
    readonly execution: string,
  ) {
    super(`Run ${runId} has already ended (${execution}); decisions are only taken while it runs.`);
  }
}

/**
 * The run refused a decision (wrong gate kind, unknown ticket, a decision the gate does not take,
 * a malformed payload). `reason` is the run's own words; nothing changed in the run.
 */
export class DecisionRefusedError extends InputError {
  override name = 'DecisionRefusedError';
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`Run ${runId} refused the decision: ${reason}`);
  }
}

/** A decision was refused because no gate it could mean is waiting (none, or already decided). */
export class GateNotPendingError extends DecisionRefusedError {
  override name = 'GateNotPendingError';
}

/** The run is open but no worker answered its queries in time: start `maestro dev` or `maestro worker`. */
export class NoWorkerError extends InputError {
  override name = 'NoWorkerError';
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(message);
  }
}

/** No Temporal server answered at the configured address; the message says how to start one. */
export class TemporalUnreachableError extends MaestroError {
  override name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The refusal of a `decide` update as a typed error: the run's messages for "nothing pending"
 * (`no gate is pending ...`, `no pending plan gate ...`) become GateNotPendingError.
 */
export function decisionRefused(runId: string, reason: string): DecisionRefusedError {
  return /^no (gate is pending|pending )/.test(reason)
    ? new GateNotPendingError(runId, reason)
    : new DecisionRefusedError(runId, reason);
}
