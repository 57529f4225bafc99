/**
 * The four ways of getting structured output from a chat model, because providers differ:
 * `json_schema` (the schema in `response_format`, constrained where the engine can), `json_object`
 * (JSON mode; the schema is described in the prompt), `tool` (the answer as a forced function
 * call) and `text` (plain chat; JSON taken from the answer's fenced block). Each mode builds its
 * request parts here and takes the JSON text back out of the answer.
 */
import type OpenAI from 'openai';
import { z } from 'zod';
import type { JsonSchema } from './wire-schema';

/** A structured-output mode, configurable per provider and per role. */
export const OutputMode = z.enum(['json_schema', 'json_object', 'tool', 'text']);
export type OutputMode = z.infer<typeof OutputMode>;

/** Effort a reasoning model spends before answering, sent as `reasoning_effort` (settable per role). */
export const ReasoningEffort = z.enum(['minimal', 'low', 'medium', 'high']);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;

/** The order Maestro falls back in when a provider refuses a mode as "not supported". */
export const OUTPUT_MODE_ORDER: readonly OutputMode[] = OutputMode.options;

/** The mode after `mode` in the fallback order (undefined after `text`). */
export function nextOutputMode(mode: OutputMode): OutputMode | undefined {
  return OUTPUT_MODE_ORDER[OUTPUT_MODE_ORDER.indexOf(mode) + 1];
}

/** The request fields a mode adds to a chat completion. */
export type ModeParams = Pick<
  OpenAI.ChatCompletionCreateParamsNonStreaming,
  'response_format' | 'tools' | 'tool_choice'
>;

/** What a mode needs to build its request. */
export interface ModeInput {
  mode: OutputMode;
  schemaName: string;
  schema: JsonSchema;
}

/**
 * The text added to the system prompt in the modes where the provider does not see the schema.
 * The simulated LLM reads the schema back from the fenced block after the marker line.
 */
export function schemaInstructions({ mode, schemaName, schema }: ModeInput): string | undefined {
  if (mode === 'json_schema' || mode === 'tool') return undefined;
  const where =
    mode === 'text'
      ? 'Answer with exactly one JSON object inside a ```json fenced block and nothing else.'
      : 'Answer with exactly one JSON object and nothing else.';
  return `${where} It must match this JSON schema (every property present; null where a value does not apply).\nJSON schema "${schemaName}":\n\`\`\`json\n${JSON.stringify(schema)}\n\`\`\``;
}

/** The request fields of a mode. */
export function modeParams({ mode, schemaName, schema }: ModeInput): ModeParams {
  switch (mode) {
    case 'json_schema':
      return { response_format: { type: 'json_schema', json_schema: { name: schemaName, strict: true, schema } } };
    case 'json_object':
      return { response_format: { type: 'json_object' } };
    case 'tool':
      return {
        tools: [
          {
            type: 'function',
            function: {
              name: schemaName,
              description: 'Give your answer by calling this function with it.',
              parameters: schema,
              strict: true,
            },
          },
        ],
        tool_choice: { type: 'function', function: { name: schemaName } },
      };
    case 'text':
      return {};
  }
}

/**
 * The JSON text of an answer: the forced tool call's arguments, else the content. Prose or a
 * code fence around the JSON (models do this in every mode) is cut away; reasoning text that a
 * provider puts beside the answer (`reasoning_content`) is not part of it.
 */
export function answerText(message: OpenAI.ChatCompletionMessage | undefined): string {
  if (!message) return '';
  const call = message.tool_calls?.find((c) => c.type === 'function');
  if (call && call.type === 'function') return call.function.arguments;
  return jsonOfText(message.content ?? '');
}

/**
 * The JSON inside a text: the whole text, else a ```json fenced block (closed by the last fence,
 * since JSON strings may hold fences of their own), else the outermost {...} — the first of
 * these that parses. When none parses, the likeliest one, so the repair call shows its error.
 */
export function jsonOfText(text: string): string {
  const trimmed = text.trim();
  const open = /```(?:json|JSON)?[ \t]*\n?/.exec(trimmed);
  const close = trimmed.lastIndexOf('```');
  const fenced = open && close > open.index + open[0].length ? trimmed.slice(open.index + open[0].length, close) : '';
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  const braces = start >= 0 && end > start ? trimmed.slice(start, end + 1) : '';
  const candidates = [trimmed, fenced.trim(), braces].filter((c) => c.startsWith('{') || c.startsWith('['));
  for (const c of candidates) {
    try {
      JSON.parse(c);
      return c;
    } catch {
      // try the next reading
    }
  }
  return candidates[0] ?? trimmed;
}
