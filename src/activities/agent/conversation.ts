/**
 * The agent's conversation as stored between turns (claim check: the workflow carries only its
 * reference), and the tool results the workflow carries to the next turn: each bounded, the long
 * ones as a reference plus a short excerpt, so a turn's payloads stay small whatever the tools
 * returned.
 */
import type OpenAI from 'openai';
import type { ToolCallRequest, ToolResultMessage } from '../../shared/tools';
import type { ArtifactStore } from '../artifacts/store';
import type { AgentMessage } from '../llm/tool-turn';

/** Tool results longer than this travel by reference; the workflow carries an excerpt of this length. */
export const TOOL_RESULT_INLINE_CHARS = 1000;

/** `text` cut to `max` characters, saying how much was left out. */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)} [... ${text.length - max} more characters]`;
}

/**
 * The assistant message as stored: its tool calls as vetted (ids made unique, huge refused
 * arguments left out), so the next request sends the provider one answer per call and no
 * megabytes the model was refused.
 */
export function storedAssistant(
  message: OpenAI.ChatCompletionAssistantMessageParam,
  calls: ToolCallRequest[],
): OpenAI.ChatCompletionAssistantMessageParam {
  if (calls.length === 0) return message;
  return {
    ...message,
    tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
  };
}

/**
 * Puts the tool messages after the last assistant message in the order of its calls: refusals are
 * answered in the turn that made them, results one turn later, and some providers pair them by order.
 */
export function answersInCallOrder(messages: AgentMessage[]): void {
  let at = messages.length - 1;
  while (at >= 0 && messages[at]!.role === 'tool') at--;
  const assistant = messages[at];
  if (!assistant || assistant.role !== 'assistant' || !assistant.tool_calls) return;
  const order = new Map(assistant.tool_calls.map((c, i) => [c.id, i]));
  const answers = messages.slice(at + 1) as OpenAI.ChatCompletionToolMessageParam[];
  const rank = (m: OpenAI.ChatCompletionToolMessageParam) => order.get(m.tool_call_id) ?? order.size;
  messages.splice(at + 1, answers.length, ...answers.sort((a, b) => rank(a) - rank(b)));
}

/** The result of one call as the workflow carries it: whole when short, else an excerpt and its reference. */
export async function resultMessage(
  store: ArtifactStore,
  at: { ticketId: string; turn: number; call: ToolCallRequest },
  content: string,
): Promise<ToolResultMessage> {
  if (content.length <= TOOL_RESULT_INLINE_CHARS) return { toolCallId: at.call.id, content };
  const contentRef = await store.put({
    path: `agent/${at.ticketId}-turn-${at.turn}-${at.call.name.slice(0, 64)}.result.txt`,
    content,
  });
  return { toolCallId: at.call.id, content: cut(content, TOOL_RESULT_INLINE_CHARS), contentRef };
}
