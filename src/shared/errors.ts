/**
 * Failure types used with `ApplicationFailure`. Retry policies list the non-retryable ones, so
 * the names are part of the durable contract: never rename a released one.
 */
export const FailureType = {
  /** The model provider rejected the request because of configuration (key, model, URL). */
  LlmConfig: 'MaestroLlmConfigError',
  /** The provider is rate limiting; retried after the time the server asked for. */
  LlmRateLimited: 'MaestroLlmRateLimited',
  /** A transient provider failure (5xx, dropped connection, timeout). */
  LlmUnavailable: 'MaestroLlmUnavailable',
  /** The model answered with output that did not match the schema, even after a repair call. */
  LlmBadOutput: 'MaestroLlmBadOutput',
  /** The model's answer was cut off at the output-token limit. */
  LlmTruncated: 'MaestroLlmTruncated',
  /** The model refused to answer. */
  LlmRefused: 'MaestroLlmRefused',
  /**
   * The provider refused a parameter or structured-output mode it does not support; the call was
   * repeated without it. Only seen in call records: it never fails an activity.
   */
  LlmAdapted: 'MaestroLlmAdapted',
  /** The Boss could not produce a valid plan within the re-plan bound. */
  InvalidPlan: 'MaestroInvalidPlan',
  /** A message (signal/update) or input was malformed; says what to fix. */
  BadInput: 'MaestroBadInput',
  /** A gate's timeout passed and its policy is to fail the run. */
  GateTimedOut: 'MaestroGateTimedOut',
  /** A person rejected more spending at the budget gate before there was anything to keep. */
  BudgetStopped: 'MaestroBudgetStopped',
  /** An unexpected error inside the run's own code (a bug): reported with its message. */
  Internal: 'MaestroInternal',
  /** A person aborted the run at a gate. */
  Aborted: 'MaestroAborted',
  /** No ticket of the run was accepted: there is nothing to deliver, so the run fails. */
  NothingProduced: 'MaestroNothingProduced',
  /** An artifact referenced by a run is missing or corrupt in the artifact store. */
  ArtifactMissing: 'MaestroArtifactMissing',
  /**
   * An LLM activity used every call the run's budget permits granted it and stopped before the
   * next one; the ticket books what it spent and asks the run for more (never retried as is).
   */
  PermitsUsedUp: 'MaestroPermitsUsedUp',
  /** No worker took a role's work from the role's own task queue in time (schedule-to-start). */
  RoleQueueUnpolled: 'MaestroRoleQueueUnpolled',
  /** A webhook notification could not be delivered (audited; never fails the run). */
  NotifyFailed: 'MaestroNotifyFailed',
  /** A tool source (an MCP server) could not be reached or listed; retried, then the ticket fails. */
  ToolUnavailable: 'MaestroToolUnavailable',
  /**
   * A coding-agent CLI's attempt failed (API errors, wall time, changed nothing, could not start):
   * retried within the role's executor bounds, then the ticket fails with the reason.
   */
  ExecutorFailed: 'MaestroExecutorFailed',
} as const;

/** Union of the failure type strings. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Types that retrying cannot fix; listed in every activity retry policy. */
export const NON_RETRYABLE_FAILURES: string[] = [
  FailureType.LlmConfig,
  FailureType.LlmRefused,
  FailureType.InvalidPlan,
  FailureType.BadInput,
  FailureType.ArtifactMissing,
  FailureType.GateTimedOut,
  FailureType.Aborted,
  FailureType.BudgetStopped,
  FailureType.PermitsUsedUp,
];
