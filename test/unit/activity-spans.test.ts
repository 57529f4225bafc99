/**
 * What each activity is called in a run's trace: the LLM activities get GenAI names (a role's
 * work and the Boss's review and report are `invoke_agent <role>`), and activities that call no
 * model (MCP tool listing, records, notifications, file export) keep their own name, so a trace
 * never shows them as the Boss working.
 */
import { activitySpanOf } from '../../src/telemetry/run-spans';

const WF = 'run-1/T2';

it.each([
  ['planGoal', 'plan', 'plan', { goal: 'x' }],
  ['performTicket', 'invoke_agent coder', 'invoke_agent', { ticket: { role: 'coder' } }],
  ['reviewTicket', 'invoke_agent boss', 'invoke_agent', { ticket: { role: 'coder' } }],
  ['finalizeRun', 'invoke_agent boss', 'invoke_agent', {}],
])('%s is the GenAI span "%s"', (activity, name, operation, arg) => {
  const span = activitySpanOf(activity, arg, WF);
  expect(span.name).toBe(name);
  expect(span.attributes['gen_ai.operation.name']).toBe(operation);
  expect(span.attributes['gen_ai.conversation.id']).toBe(WF);
});

it.each(['agentListTools', 'storeRunRecords', 'loadRunRecords', 'deliverNotification', 'readArtifactChunks'])(
  '%s calls no model: its span has its own name and no GenAI operation',
  (activity) => {
    const span = activitySpanOf(activity, {}, WF);
    expect(span.name).toBe(activity);
    expect(span.attributes['gen_ai.operation.name']).toBeUndefined();
    expect(span.attributes['gen_ai.agent.name']).toBeUndefined();
    expect(span.attributes['maestro.activity']).toBe(activity);
  },
);
