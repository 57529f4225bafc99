/**
 * Tool calling for the llama.cpp engine, in OpenAI's chat-completions shape. node-llama-cpp's own
 * function calling lets the model start a call only by writing its chat wrapper's trigger text
 * (`||call:` for ChatML models like SmolLM2) and cannot force `required` or a named function, so
 * the engine builds its own grammar instead: the answer is EITHER plain text OR a
 * `<tool_call>[...]</tool_call>` block whose JSON array llama.cpp constrains to calls of the
 * offered tools with arguments matching each tool's JSON schema. The tools are documented to the
 * model in its system prompt in the same format, and earlier calls and their results are written
 * back into the history that way. Pure functions: no engine here.
 */
import { randomBytes } from 'node:crypto';
import { isObject } from '../sim-llm/http-util';
import { flattenContent } from '../sim-llm/openai-format';
import type { EngineTurn } from './engine';
import { asPart } from './gbnf';

/** A request's tools, checked. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** What the request lets the model do with its tools. */
export interface ToolPlan {
  tools: ToolSpec[];
  /** `auto`: text or calls; `required`: calls of any tool; a name: calls of that tool only. */
  choice: 'auto' | 'required' | { name: string };
  /** Most calls in one answer (1 when `parallel_tool_calls` is false). */
  maxCalls: number;
}

/** A request whose tool fields are wrong; the message says what to fix. */
export class ToolRequestError extends Error {
  override name = 'ToolRequestError';
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** Calls per answer when parallel calls are allowed (a tiny model may otherwise loop on calls). */
export const MAX_PARALLEL_CALLS = 8;
const MAX_TOOLS = 128;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

/** The request's tool plan, or undefined when it offers no tools or says `tool_choice: "none"`. */
export function toolPlanOf(body: Record<string, unknown>): ToolPlan | undefined {
  const choice = body.tool_choice;
  if (body.tools === undefined || body.tools === null) {
    if (choice === undefined || choice === null || choice === 'none' || choice === 'auto') return undefined;
    throw new ToolRequestError(`'tool_choice' ${JSON.stringify(choice)} needs 'tools' to choose from.`, 'tool_choice');
  }
  if (!Array.isArray(body.tools) || body.tools.length > MAX_TOOLS)
    throw new ToolRequestError(
      `'tools' must be an array of at most ${MAX_TOOLS} {"type": "function", "function": {"name", "parameters"}}.`,
      'tools',
    );
  const tools = body.tools.map((t: unknown, i): ToolSpec => {
    const fn = isObject(t) && t.type === 'function' && isObject(t.function) ? t.function : undefined;
    if (!fn) throw new ToolRequestError(`tools[${i}] must be {"type": "function", "function": {...}}.`, 'tools');
    if (typeof fn.name !== 'string' || !NAME.test(fn.name))
      throw new ToolRequestError(`tools[${i}].function.name must be 1-64 letters, digits, "_" or "-".`, 'tools');
    const params = fn.parameters ?? { type: 'object', properties: {} };
    if (!isObject(params))
      throw new ToolRequestError(`tools[${i}].function.parameters must be a JSON schema object.`, 'tools');
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      parameters: params,
    };
  });
  const names = tools.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ToolRequestError(`tools name "${dup}" twice; tool names must be unique.`, 'tools');
  if (tools.length === 0 || choice === 'none') return undefined;
  const maxCalls = body.parallel_tool_calls === false ? 1 : MAX_PARALLEL_CALLS;
  if (choice === undefined || choice === null || choice === 'auto') return { tools, choice: 'auto', maxCalls };
  if (choice === 'required') return { tools, choice: 'required', maxCalls };
  const named = isObject(choice) && isObject(choice.function) ? choice.function.name : undefined;
  if (typeof named !== 'string')
    throw new ToolRequestError(
      `'tool_choice' must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}.`,
      'tool_choice',
    );
  if (!names.includes(named))
    throw new ToolRequestError(
      `'tool_choice' names "${named}", which is not among the tools: ${names.join(', ')}.`,
      'tool_choice',
    );
  return { tools, choice: { name: named }, maxCalls };
}

/** The JSON schema of the call array the plan allows (compiled by llama.cpp's converter). */
export function callsSchemaOf(plan: ToolPlan): Record<string, unknown> {
  const { choice } = plan;
  const allowed = typeof choice === 'object' ? plan.tools.filter((t) => t.name === choice.name) : plan.tools;
  const calls = allowed.map((t) => ({
    type: 'object',
    properties: { name: { const: t.name }, arguments: t.parameters },
    required: ['name', 'arguments'],
  }));
  return {
    type: 'array',
    items: calls.length === 1 ? calls[0] : { oneOf: calls },
    minItems: 1,
    maxItems: plan.maxCalls,
  };
}

/**
 * The answer's grammar: a `<tool_call>[...]</tool_call>` block of the allowed calls; under `auto`
 * also the alternative, which is the response format's grammar when the request has one (an
 * agent's final answer) and otherwise plain text that does not start with `<` or a space.
 */
export function toolGrammarOf(callsGbnf: string, plan: ToolPlan, answerGbnf?: string): string {
  const block = `tool-block ::= "${OPEN}" call-root "${CLOSE}"`;
  const parts = [block, asPart(callsGbnf, 'call-')];
  if (plan.choice !== 'auto') return ['root ::= tool-block', ...parts].join('\n');
  if (answerGbnf) return ['root ::= tool-block | answer-root', ...parts, asPart(answerGbnf, 'answer-')].join('\n');
  return ['root ::= tool-block | plain-text', ...parts, 'plain-text ::= [^<\\x00-\\x20] [^\\x00]*'].join('\n');
}

/** The system-prompt text that documents the tools and the call format (SmolLM2's training format). */
export function toolsPrompt(plan: ToolPlan): string {
  const docs = JSON.stringify(plan.tools.map((t) => ({ type: 'function', function: t })));
  const rule =
    plan.choice === 'auto'
      ? 'If none of the functions is needed, give your answer instead.'
      : plan.choice === 'required'
        ? 'You must call a function now.'
        : `You must call the function "${plan.choice.name}" now.`;
  return (
    'You are an expert in composing functions. You are given a question and a set of possible functions. ' +
    'Based on the question, you will need to make one or more function/tool calls to achieve the purpose.\n\n' +
    `You have access to the following tools:\n<tools>${docs}</tools>\n\n` +
    'To call tools, the output MUST strictly adhere to the following format, and NO other text MUST be included.\n' +
    `${OPEN}[\n{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},\n` +
    `... (more tool calls as required)\n]${CLOSE}\n${rule}`
  );
}

/** An OpenAI tool call. */
export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** The model's calls when its answer is a complete call block, else undefined (text or a cut-off). */
export function parseToolCalls(text: string): WireToolCall[] | undefined {
  const t = text.trim();
  if (!t.startsWith(OPEN) || !t.endsWith(CLOSE)) return undefined;
  let calls: unknown;
  try {
    calls = JSON.parse(t.slice(OPEN.length, -CLOSE.length));
  } catch {
    return undefined;
  }
  if (!Array.isArray(calls) || calls.length === 0) return undefined;
  const out: WireToolCall[] = [];
  for (const c of calls) {
    if (!isObject(c) || typeof c.name !== 'string' || !isObject(c.arguments)) return undefined;
    out.push({
      id: `call_${randomBytes(12).toString('hex')}`,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    });
  }
  return out;
}

function argumentsOf(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * The chat history as the engine takes it: an assistant's calls written back as call blocks,
 * tool results (consecutive ones together) as a user turn of `<tool_response>` blocks, and the
 * tools' documentation added to the system prompt.
 */
export function historyOf(messages: unknown[], plan: ToolPlan | undefined): EngineTurn[] {
  const names = new Map<string, string>();
  const turns: EngineTurn[] = [];
  for (const m of messages.filter(isObject)) {
    const text = flattenContent(m.content);
    if (m.role === 'assistant') {
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls.filter(isObject) : [];
      const wire = calls.map((c) => {
        const fn = isObject(c.function) ? c.function : {};
        if (typeof c.id === 'string' && typeof fn.name === 'string') names.set(c.id, fn.name);
        return { name: fn.name, arguments: argumentsOf(fn.arguments) };
      });
      const block = wire.length ? `${OPEN}\n${JSON.stringify(wire)}\n${CLOSE}` : '';
      turns.push({ type: 'model', response: [[text, block].filter(Boolean).join('\n')] });
    } else if (m.role === 'tool') {
      const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : undefined;
      const result = `<tool_response>\n${JSON.stringify({ name: id ? names.get(id) : undefined, content: text })}\n</tool_response>`;
      const last = turns[turns.length - 1];
      if (last?.type === 'user' && last.text.startsWith('<tool_response>')) last.text += `\n${result}`;
      else turns.push({ type: 'user', text: result });
    } else turns.push({ type: m.role === 'system' || m.role === 'developer' ? 'system' : 'user', text });
  }
  if (plan) {
    const doc = toolsPrompt(plan);
    const first = turns[0];
    if (first?.type === 'system') first.text = `${doc}\n\n${first.text}`;
    else turns.unshift({ type: 'system', text: doc });
  }
  return turns;
}
