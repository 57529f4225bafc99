/**
 * Hostile payloads for the message-handler property test (test/workflows/message-fuzz.test.ts):
 * arbitrary JSON, near-valid mutations of a real payload, one ~1 MB string and one deeply nested
 * value per handler, and the checks a live workflow must pass after receiving them.
 */
import fc from 'fast-check';
import { temporal } from '@temporalio/proto';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { FailureType } from '../../src/shared/errors';

/** One handler under attack: where, which wire name, and what a real payload looks like. */
export interface FuzzTarget {
  handle: WorkflowHandle;
  name: string;
  kind: 'signal' | 'update';
  /** The handler's schema: generated payloads it accepts are not sent (they would really act). */
  schema: z.ZodType;
  /** A real payload, mutated into near-valid junk. */
  real: Record<string, unknown>;
  /** Payloads the schema accepts that still must change nothing (unknown gate, ticket, request). */
  misaddressed?: unknown[];
}

/** `depth` arrays nested in each other, around a string. */
export function deeplyNested(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
  return v;
}

/** Near-valid mutations of `real`: a key dropped, retyped, added, or the payload wrapped. */
function mutations(real: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(real);
  const json = fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(real).filter(([key]) => key !== k))),
    fc.tuple(fc.constantFrom(...keys), json).map(([k, v]) => ({ ...real, [k]: v })),
    fc.tuple(fc.constantFrom(...keys), fc.string({ minLength: 300, maxLength: 20_000 })).map(([k, v]) => ({
      ...real,
      [k]: v,
    })),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), json).map(([k, v]) => ({ ...real, [k]: v })),
    fc.constant([real]),
    fc.constant(JSON.stringify(real)),
  );
}

/** Arbitrary hostile payloads for `t`, none of which the handler's schema accepts. */
export function junkFor(t: FuzzTarget): fc.Arbitrary<unknown> {
  return fc
    .oneof(
      { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
      { arbitrary: fc.constantFrom(null, 0, -1, 1e308, '', true, [], {}, 'approve', [null]), weight: 1 },
      { arbitrary: fc.string({ maxLength: 5000 }), weight: 1 },
      { arbitrary: mutations(t.real), weight: 4 },
    )
    .filter((v) => !t.schema.safeParse(v).success);
}

/** The fixed hostile payloads every handler also gets: null, ~1 MB of text in a field, deep nesting. */
export function fixedJunk(t: FuzzTarget): unknown[] {
  const first = Object.keys(t.real)[0]!;
  return [null, { ...t.real, [first]: 'x'.repeat(1024 * 1024) }, { ...t.real, [first]: deeplyNested(1000) }];
}

/**
 * Sends one payload. A signal is accepted by the server whatever it holds; an update must be
 * refused by its validator with a readable `BadInput` failure (returns its message).
 */
export async function send(t: FuzzTarget, payload: unknown): Promise<string | undefined> {
  if (t.kind === 'signal') {
    await t.handle.signal(t.name, payload);
    return undefined;
  }
  try {
    await t.handle.executeUpdate(t.name, { args: [payload] });
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const cause = err.cause;
    if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.BadInput)
      throw new Error(`update ${t.name} failed without a BadInput failure: ${String(cause)}`);
    return cause.message;
  }
  throw new Error(`update ${t.name} accepted ${JSON.stringify(payload)?.slice(0, 200)}`);
}

/**
 * Workflow tasks of a workflow that failed (a handler that throws fails its task over and over).
 * Read in small pages: a page of events holding ~1 MB payloads passes gRPC's 4 MB message limit.
 */
export async function failedWorkflowTasks(client: Client, workflowId: string): Promise<number> {
  let failed = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 2,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    failed += (page.history?.events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    ).length;
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return failed;
}

/** Signal and update handlers a live workflow registered, with their descriptions (built-in query). */
export async function registeredHandlers(handle: WorkflowHandle): Promise<{ name: string; description?: string }[]> {
  interface Metadata {
    definition?: {
      signalDefinitions?: { name: string; description?: string }[];
      updateDefinitions?: { name: string; description?: string }[];
    };
  }
  const meta = await handle.query<Metadata>('__temporal_workflow_metadata');
  return [...(meta.definition?.signalDefinitions ?? []), ...(meta.definition?.updateDefinitions ?? [])];
}
