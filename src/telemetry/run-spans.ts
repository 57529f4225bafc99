/**
 * Maestro's GenAI spans (OpenTelemetry GenAI semantic conventions) made on the worker, where the
 * LLM calls happen: every activity of a run hangs under one `invoke_workflow` span per run whose
 * trace and span ids derive from the run id, so the Boss worker and role workers on other machines
 * add to the same trace without the workflow carrying any tracing state (no change to workflow
 * code or histories). Activities become `plan` (the Boss planning), `invoke_agent <role>`
 * (a ticket's work or an agent's turn, the Boss's reviews and report) and `execute_tool <tool>`
 * (an agent's tool call, see tool-spans.ts); each LLM call is a `chat <model>` span with token
 * usage and cost (kind CLIENT: a request to the provider). The run span itself is exported when
 * the run ends, whatever the ending (workflow-sinks.ts).
 */
import { createHash } from 'node:crypto';
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type SpanContext,
} from '@opentelemetry/api';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { LlmCallRecord } from '../shared/types';
import { llmProviderName } from './llm-provider';
import { withDerivedIds } from './span-ids';
import { agentSpanOf, endToolSpan, invokeAgentSpan, type NamedSpan } from './tool-spans';
import { currentTracing } from './tracing';

/** Maestro's attribute for the cost of a call or run in US dollars (no GenAI convention yet). */
export const COST_ATTRIBUTE = 'maestro.cost_usd';

const hex = (text: string, chars: number) => createHash('sha256').update(text).digest('hex').slice(0, chars);

/** The run span's context: the same on every worker for the same run id. */
export function runSpanContext(runId: string): SpanContext {
  return {
    traceId: hex(`maestro-run:${runId}`, 32),
    spanId: hex(`maestro-run-span:${runId}`, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/** When this worker process first saw each run (the run span's start; one process may not see all). */
const runStarts = new Map<string, number>();

/**
 * Exports the run span of `runId` (the trace's root): from when this process first saw the run
 * (or `startTime`, if earlier) until now, with the ending's status.
 */
export function exportRunSpan(
  runId: string,
  attributes: Attributes,
  opts: { startTime?: number; error?: string } = {},
): void {
  const tracing = currentTracing();
  if (!tracing) return;
  const ids = runSpanContext(runId);
  const seen = runStarts.get(runId);
  const startTime = Math.min(seen ?? Infinity, opts.startTime ?? Infinity);
  withDerivedIds(ids, () => {
    const span = tracing.tracer.startSpan('invoke_workflow maestro', {
      root: true,
      startTime: Number.isFinite(startTime) ? startTime : Date.now(),
      attributes: { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.conversation.id': runId, ...attributes },
    });
    if (opts.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: opts.error });
    span.end();
  });
  runStarts.delete(runId);
}

/** The Boss's LLM activities besides planning: each is one `invoke_agent boss` span. */
const BOSS_LLM_ACTIVITIES = new Set(['reviewTicket', 'finalizeRun']);

/**
 * The span of one activity: GenAI names for the LLM activities (planning, a role's work, the
 * Boss's reviews and report, agent turns and tool calls), and the activity's own name for the
 * rest (MCP tool listing, record keeping, notifications, file export), so no trace shows those
 * as an agent's invocation.
 */
export function activitySpanOf(activityType: string, arg: unknown, workflowId: string): NamedSpan {
  const agent = agentSpanOf(activityType, arg, workflowId);
  if (agent) return agent;
  const input = (typeof arg === 'object' && arg !== null ? arg : {}) as { ticket?: { role?: string } };
  const conversation = { 'gen_ai.conversation.id': workflowId };
  if (activityType === 'planGoal')
    return {
      name: 'plan',
      attributes: { 'gen_ai.operation.name': 'plan', 'gen_ai.agent.name': 'boss', ...conversation },
    };
  if (activityType === 'performTicket') return invokeAgentSpan(input.ticket?.role ?? 'worker', workflowId);
  if (BOSS_LLM_ACTIVITIES.has(activityType))
    return invokeAgentSpan('boss', workflowId, { 'maestro.boss.task': activityType });
  return { name: activityType, attributes: { 'maestro.activity': activityType, ...conversation } };
}

/** Activity interceptor that opens the GenAI span of each activity under its run's span. */
export class GenAiSpansInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: ActivityContext) {}

  /** Runs the activity inside its span (parent: the run span). */
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const tracing = currentTracing();
    const { activityType, workflowExecution } = this.ctx.info;
    if (!tracing || !workflowExecution) return next(input); // standalone activities have no run
    const workflowId = workflowExecution.workflowId;
    const runId = workflowId.split('/')[0]!;
    if (!runStarts.has(runId)) runStarts.set(runId, Date.now());
    const parent = trace.setSpanContext(context.active(), runSpanContext(runId));
    const { name, attributes } = activitySpanOf(activityType, input.args[0], workflowId);
    return tracing.tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
      try {
        const out = await next(input);
        if (activityType === 'agentTool') endToolSpan(span, out);
        return out;
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }
}

/** One `chat <model>` span per LLM call, under the activity's span (start and end from the record). */
export function exportChatSpan(call: LlmCallRecord, conversationId: string | undefined): void {
  const tracing = currentTracing();
  if (!tracing) return;
  const start = Date.parse(call.startedAt);
  const span = tracing.tracer.startSpan(`chat ${call.model}`, {
    kind: SpanKind.CLIENT,
    startTime: start,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': llmProviderName(),
      'gen_ai.request.model': call.model,
      'gen_ai.response.model': call.model,
      'gen_ai.usage.input_tokens': call.promptTokens,
      'gen_ai.usage.output_tokens': call.completionTokens,
      'gen_ai.usage.cache_read.input_tokens': call.cachedTokens,
      'gen_ai.agent.name': call.role,
      ...(conversationId ? { 'gen_ai.conversation.id': conversationId } : {}),
      [COST_ATTRIBUTE]: call.usd,
      'maestro.call.kind': call.kind,
      ...(call.error ? { 'error.type': call.error } : {}),
    },
  });
  if (call.error) span.setStatus({ code: SpanStatusCode.ERROR, message: call.error });
  span.end(start + call.latencyMs);
}
