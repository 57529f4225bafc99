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
 * (`no gate is pending ...`, `no pending plan gate ...`, `gate plan#1 is no longer pending ...`,
 * see workflows/gates.ts) become GateNotPendingError; the others (an unknown gate id or ticket, a
 * decision the gate does not take, a malformed payload) stay DecisionRefusedError.
 */
export function decisionRefused(runId: string, reason: string): DecisionRefusedError {
  // The gate id must have a gate id's shape: the caller's own text (`gate: "x is no longer
  // pending"`) echoed in another refusal must not read as "nothing pending".
  return /^(no (gate is pending|pending )|gate [a-z-]+(:T\d+)?#\d+ is no longer pending:)/.test(reason)
    ? new GateNotPendingError(runId, reason)
    : new DecisionRefusedError(runId, reason);
}

/**
 * Whether a failed `decide` call lost a race with the end of its run: the server aborts an update
 * still in flight when the workflow closes ("workflow update was aborted by closing workflow"),
 * and answers one that arrives just after with "workflow execution already completed" (a
 * WorkflowNotFoundError). The caller checks that the run really ended before saying so.
 */
export function isLostToClosingRun(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'WorkflowNotFoundError') return true;
    const details = (e as { details?: unknown }).details;
    const text = `${e.message} ${typeof details === 'string' ? details : ''}`;
    if (/aborted by closing workflow|workflow execution already completed/i.test(text)) return true;
  }
  return false;
}

/**
 * A decision that reached its run only after the run ended (two people approving the last gate
 * at once: one of them wins): the gate is no longer pending, and nothing changed.
 */
export function decisionLostToEnd(runId: string, execution: string): GateNotPendingError {
  return new GateNotPendingError(
    runId,
    `no gate is pending: the run ended (${execution}) while this decision was on its way, so it changed nothing; another decision probably settled its last gate first (see \`maestro status ${runId}\`)`,
  );
}
