/**
 * The one way workflow code registers message handlers (lint bans `setHandler` everywhere else).
 * Anyone who can signal a workflow can send any JSON, so every signal and update handler is
 * registered with a zod schema: the payload is parsed before the handler sees it, what does not
 * fit is reported to `ignore` (the caller audits it) and dropped, and nothing a handler throws
 * reaches the workflow task (a thrown error there fails the task over and over, which wedges the
 * workflow: it can then neither make progress nor be cancelled). Updates are refused by their
 * validator with a readable `BadInput` failure instead, so the caller sees why at once.
 */
import {
  ApplicationFailure,
  isCancellation,
  log,
  // eslint-disable-next-line no-restricted-imports -- the one module that may register handlers (see above)
  setHandler,
  type QueryDefinition,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { FailureType } from '../shared/errors';

/**
 * Description of every handler registered here, visible in the built-in
 * `__temporal_workflow_metadata` query: tests read it to prove no handler skipped validation.
 */
export const VALIDATED_HANDLER = 'maestro: payload validated (zod) before it touches state';

/** A schema, or a function that builds it on first use (keeps a workflow's start cheap). */
export type PayloadSchema<T> = z.ZodType<T> | (() => z.ZodType<T>);

/** A message that was dropped, and why (one line, bounded). */
export interface IgnoredMessage {
  /** Wire name of the signal or update. */
  name: string;
  problem: string;
  /** The payload as received (to read a claimed sender from; never stored whole). */
  raw: unknown;
}

/** Longest problem text kept: a validation message may quote the junk it refused. */
const MAX_PROBLEM = 300;

/** What an ignored message becomes when its caller keeps no audit log: a worker log line. */
const warnIgnored = (m: IgnoredMessage) =>
  log.warn('ignored an invalid message', { message: m.name, problem: m.problem });

/** A readable one-line reason from a zod error (its first issue, bounded), e.g. `invalid payload: usd: …`. */
export function payloadProblem(err: z.ZodError, noun = 'payload'): string {
  const issue = err.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return bounded(`invalid ${noun}: ${where}${issue?.message ?? 'does not match'}`);
}

function bounded(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > MAX_PROBLEM ? `${line.slice(0, MAX_PROBLEM)}…` : line;
}

function errorText(err: unknown): string {
  return bounded(err instanceof ApplicationFailure ? err.message : `internal error: ${String(err)}`);
}

function lazy<T>(schema: PayloadSchema<T>): () => z.ZodType<T> {
  let built: z.ZodType<T> | undefined;
  return () => (built ??= typeof schema === 'function' ? schema() : schema);
}

/** Reports a dropped message; an `ignore` that throws is only logged (it must not fail the task). */
function report(ignore: (m: IgnoredMessage) => void, m: IgnoredMessage): void {
  try {
    ignore(m);
  } catch (err) {
    log.warn('could not audit an ignored message', { message: m.name, error: String(err) });
  }
}

/**
 * Registers a signal handler that only ever sees payloads `schema` accepts. Invalid payloads,
 * and errors the handler throws or rejects with, go to `ignore` (default: a worker log line).
 * Cancellation of the workflow still propagates from an async handler (it is not a payload).
 */
export function onSignal<T>(
  def: SignalDefinition<[T]> | SignalDefinition<[]>,
  schema: PayloadSchema<T>,
  handle: (payload: T) => void | Promise<void>,
  ignore: (m: IgnoredMessage) => void = warnIgnored,
): void {
  const parser = lazy(schema);
  const name = def.name;
  const handler = (...args: unknown[]): void | Promise<void> => {
    const raw = args[0];
    let parsed: ReturnType<z.ZodType<T>['safeParse']>;
    try {
      parsed = parser().safeParse(raw);
    } catch (err) {
      return report(ignore, { name, problem: errorText(err), raw });
    }
    if (!parsed.success) return report(ignore, { name, problem: payloadProblem(parsed.error), raw });
    const failed = (err: unknown) => {
      if (isCancellation(err)) throw err;
      report(ignore, { name, problem: errorText(err), raw });
    };
    try {
      const out = handle(parsed.data);
      if (out instanceof Promise) return out.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
  setHandler(def as SignalDefinition<unknown[]>, handler, { description: VALIDATED_HANDLER });
}

/** Thrown by update validators and handlers: a readable message, never retried, never failing the run. */
export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.BadInput, message, nonRetryable: true });
}

/** Parses an update's payload or throws `badInput` with the problem. */
function parseOrRefuse<T>(parser: () => z.ZodType<T>, raw: unknown, noun: string): T {
  let parsed: ReturnType<z.ZodType<T>['safeParse']>;
  try {
    parsed = parser().safeParse(raw);
  } catch (err) {
    throw badInput(`invalid ${noun}: ${errorText(err)}`);
  }
  if (!parsed.success) throw badInput(payloadProblem(parsed.error, noun));
  return parsed.data;
}

/** Any error as an ApplicationFailure the caller can read (a plain Error would fail the task). */
function refusal(err: unknown): ApplicationFailure {
  return err instanceof ApplicationFailure ? err : badInput(errorText(err));
}

/**
 * Registers an update whose validator parses the payload with `schema` and then runs `check`
 * (which throws `badInput` for a request that cannot be applied): an invalid request is refused
 * before it is written to history, with `invalid <noun>: <problem>`. The handler parses again
 * (validators do not run on replay) and turns anything it throws into a readable failure.
 */
export function onUpdate<R, T>(
  def: UpdateDefinition<R, [T]>,
  schema: PayloadSchema<T>,
  handle: (payload: T) => R | Promise<R>,
  opts: { check?: (payload: T) => void; noun?: string } = {},
): void {
  const noun = opts.noun ?? 'payload';
  const parser = lazy(schema);
  setHandler(
    def as UpdateDefinition<R, [unknown]>,
    (raw: unknown) => {
      const payload = parseOrRefuse(parser, raw, noun);
      const failed = (err: unknown): never => {
        if (isCancellation(err)) throw err;
        throw refusal(err);
      };
      try {
        const out = handle(payload);
        return out instanceof Promise ? out.catch(failed) : out;
      } catch (err) {
        return failed(err);
      }
    },
    {
      validator: (raw: unknown) => {
        try {
          opts.check?.(parseOrRefuse(parser, raw, noun));
        } catch (err) {
          throw refusal(err);
        }
      },
      description: VALIDATED_HANDLER,
    },
  );
}

/** Registers a query (queries of Maestro's workflows take no payload, so there is nothing to parse). */
export function onQuery<R>(def: QueryDefinition<R, []>, handle: () => R): void {
  setHandler(def, handle, { description: VALIDATED_HANDLER });
}
