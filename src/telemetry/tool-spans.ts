/**
 * GenAI spans of agent loops: each LLM turn (`agentTurn`) is an `invoke_agent <role>` span and
 * each tool call (`agentTool`) an `execute_tool <tool>` span, under the run's span like every
 * activity of the run (see run-spans.ts). Attribute names follow the OpenTelemetry GenAI
 * semantic conventions (`gen_ai.tool.name`, `gen_ai.tool.call.id`); how the call went (status,
 * duration, a command's exit code) is in `maestro.tool.*` attributes, and a failed call marks the
 * span as an error, so a trace shows which tool an agent spent its time in and which ones failed.
 */
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import type { ToolCallRecord } from '../shared/tools';

/** A span's name and starting attributes. */
export interface NamedSpan {
  name: string;
  attributes: Attributes;
}

/** An `invoke_agent <role>` span of one conversation, with any extra attributes. */
export function invokeAgentSpan(role: string, conversationId: string, extra: Attributes = {}): NamedSpan {
  return {
    name: `invoke_agent ${role}`,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': role,
      'gen_ai.conversation.id': conversationId,
      ...extra,
    },
  };
}

type AgentArg = {
  ticket?: { id?: string; role?: string };
  turn?: number;
  attempt?: number;
  role?: string;
  ticketId?: string;
  call?: { id?: string; name?: string };
};

const argOf = (arg: unknown): AgentArg => (typeof arg === 'object' && arg !== null ? arg : {});

/** The span of one agent-loop activity, or undefined for activities that are not agent turns or tool calls. */
export function agentSpanOf(activityType: string, arg: unknown, workflowId: string): NamedSpan | undefined {
  const a = argOf(arg);
  const conversation = { 'gen_ai.conversation.id': workflowId };
  if (activityType === 'agentTurn') {
    return invokeAgentSpan(a.ticket?.role ?? 'worker', workflowId, {
      ...(a.ticket?.id ? { 'maestro.ticket.id': a.ticket.id } : {}),
      ...(a.turn !== undefined ? { 'maestro.agent.turn': a.turn } : {}),
    });
  }
  if (activityType === 'agentTool') {
    const tool = a.call?.name ?? 'unknown';
    return {
      name: `execute_tool ${tool}`,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool,
        'gen_ai.tool.type': 'function',
        ...(a.call?.id ? { 'gen_ai.tool.call.id': a.call.id } : {}),
        ...(a.role ? { 'gen_ai.agent.name': a.role } : {}),
        ...conversation,
        ...(a.ticketId ? { 'maestro.ticket.id': a.ticketId } : {}),
        ...(a.turn !== undefined ? { 'maestro.agent.turn': a.turn } : {}),
      },
    };
  }
  return undefined;
}

/** Adds how a tool call went (from its record) to its `execute_tool` span. */
export function endToolSpan(span: Span, out: unknown): void {
  const record = (out as { record?: ToolCallRecord } | undefined)?.record;
  if (!record) return;
  span.setAttributes({
    'maestro.tool.status': record.status,
    'maestro.tool.duration_ms': record.durationMs,
    'maestro.tool.output_bytes': record.bytes,
    'maestro.tool.summary': record.summary,
    ...(record.exitCode !== undefined ? { 'maestro.tool.exit_code': record.exitCode } : {}),
  });
  if (record.status === 'error') {
    span.setAttribute('error.type', 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${record.summary} failed` });
  }
}
