/**
 * Where a run's time goes inside Temporal: for a parent workflow and its children, the history
 * events, the workflow tasks (each one a serial round trip of the parent), the time the worker
 * spent inside them, and the payload bytes. The floor bench prints it for Maestro and for the bare
 * baseline side by side, so a gap between them can be traced to the part that causes it.
 */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;

/** The shape of one workflow's history. */
export interface HistoryShape {
  events: number;
  /** Completed workflow tasks (activations that reached the server). */
  workflowTasks: number;
  /** Sum over workflow tasks of started → completed (the worker's time in them, plus one round trip). */
  taskMs: number;
  /** Sum over workflow tasks of scheduled → started (time a task waited for a poller). */
  queueMs: number;
  /** Bytes of every payload in the history (inputs, results, signals, markers, details). */
  payloadBytes: number;
  /** Events per type name, for the ones that differ between kinds. */
  byType: Record<string, number>;
}

/** A parent's shape and the mean of its children's. */
export interface RunShape {
  parent: HistoryShape;
  children: number;
  child: HistoryShape;
}

/** Measures one history. */
export function shapeOf(history: temporal.api.history.v1.IHistory): HistoryShape {
  const shape: HistoryShape = { events: 0, workflowTasks: 0, taskMs: 0, queueMs: 0, payloadBytes: 0, byType: {} };
  let scheduledAt: number | undefined;
  let startedAt: number | undefined;
  for (const e of history.events ?? []) {
    shape.events++;
    const type = EventType[e.eventType ?? 0] ?? String(e.eventType);
    const name = type.replace(/^EVENT_TYPE_/, '');
    shape.byType[name] = (shape.byType[name] ?? 0) + 1;
    const at = tsToMs(e.eventTime);
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduledAt = at;
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
      startedAt = at;
      if (scheduledAt !== undefined) shape.queueMs += at - scheduledAt;
    }
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      shape.workflowTasks++;
      if (startedAt !== undefined) shape.taskMs += at - startedAt;
    }
    shape.payloadBytes += payloadBytesOf(e);
  }
  return shape;
}

/** Sums the data bytes of every payload anywhere inside an event. */
function payloadBytesOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  if (value instanceof Uint8Array) return 0;
  const obj = value as Record<string, unknown>;
  if (obj.data instanceof Uint8Array && 'metadata' in obj) return obj.data.length;
  let sum = 0;
  for (const v of Object.values(obj))
    sum += Array.isArray(v) ? v.reduce<number>((a, x) => a + payloadBytesOf(x), 0) : payloadBytesOf(v);
  return sum;
}

/** Fetches a parent's history and its children's (ids from its child-started events) and measures them. */
export async function runShape(client: Client, workflowId: string): Promise<RunShape> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const childIds = (history.events ?? [])
    .map((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId)
    .filter((id): id is string => typeof id === 'string');
  const children = await Promise.all(childIds.map((id) => client.workflow.getHandle(id).fetchHistory()));
  const shapes = children.map(shapeOf);
  return { parent: shapeOf(history), children: shapes.length, child: meanShape(shapes) };
}

function meanShape(shapes: HistoryShape[]): HistoryShape {
  const n = Math.max(1, shapes.length);
  const mean: HistoryShape = { events: 0, workflowTasks: 0, taskMs: 0, queueMs: 0, payloadBytes: 0, byType: {} };
  for (const s of shapes) {
    mean.events += s.events / n;
    mean.workflowTasks += s.workflowTasks / n;
    mean.taskMs += s.taskMs / n;
    mean.queueMs += s.queueMs / n;
    mean.payloadBytes += s.payloadBytes / n;
    for (const [k, v] of Object.entries(s.byType)) mean.byType[k] = (mean.byType[k] ?? 0) + v / n;
  }
  return mean;
}
