/**
 * A CLI's machine-readable event stream (one JSON object per line) read into what Maestro shows
 * and decides on: turns, the last tool, tokens so far (heartbeat details for `maestro watch` and
 * the Web UI) and the final result (its text, and whether the CLI itself called it an error).
 * Claude Code's stream-json, Codex's `exec --json`, and the common shapes of the others; any line
 * that is not JSON or not understood is ignored, never trusted.
 */
import { plainLine } from '../../shared/model-text';

/** What the stream told so far. */
export interface CliProgress {
  /** Model turns (assistant messages / turns started). */
  turns: number;
  /** The last tool the CLI called. */
  lastTool?: string;
  /** Tool calls seen. */
  toolCalls: number;
  /** Tokens the CLI reports (its own count; the gateway's ledger is the bill). */
  inputTokens: number;
  outputTokens: number;
  /** The final result's text, when the stream had one. */
  result?: string;
  /** Whether the CLI's result or an error event said the work failed, and why. */
  error?: string;
  /** The last warning or retry the CLI reported (not a failure by itself). */
  warning?: string;
  /** Events read. */
  events: number;
}

/** A progress with nothing seen yet. */
export function emptyProgress(): CliProgress {
  return { turns: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, events: 0 };
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Longest result or error text kept (the summary the Boss reads is bounded). */
const MAX_TEXT = 4000;

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
}

/** A result text a CLI gives when its API calls failed although it exits 0 (Qwen Code, others). */
export function isApiErrorText(text: string): boolean {
  return /^\s*\[?API Error[:\]]/i.test(text) || /^\s*API Error:/i.test(text);
}

function tool(p: CliProgress, name: unknown): void {
  // One plain line: it is heartbeated, and the Web UI and `maestro watch` show it.
  const n = plainLine(str(name)?.slice(0, 400) ?? '').slice(0, 100);
  if (!n) return;
  p.lastTool = n;
  p.toolCalls++;
}

function usage(p: CliProgress, u: unknown, replace: boolean): void {
  if (!isObj(u)) return;
  const input = num(u.input_tokens) + num(u.prompt_tokens);
  const output = num(u.output_tokens) + num(u.completion_tokens);
  if (replace) {
    p.inputTokens = Math.max(p.inputTokens, input);
    p.outputTokens = Math.max(p.outputTokens, output);
  } else {
    p.inputTokens += input;
    p.outputTokens += output;
  }
}

/** Claude Code stream-json: assistant messages with content blocks, then one `result`. */
function claude(p: CliProgress, e: Json): boolean {
  if (e.type === 'assistant' && isObj(e.message)) {
    p.turns++;
    const content = Array.isArray(e.message.content) ? e.message.content : [];
    for (const c of content) if (isObj(c) && c.type === 'tool_use') tool(p, c.name);
    usage(p, e.message.usage, false);
    return true;
  }
  if (e.type === 'result') {
    const text = str(e.result) ?? '';
    p.result = clip(text);
    if (e.is_error === true || (typeof e.subtype === 'string' && e.subtype.startsWith('error')) || isApiErrorText(text))
      p.error = clip(text || `the CLI ended with ${str(e.subtype) ?? 'an error'}`);
    if (typeof e.num_turns === 'number') p.turns = Math.max(p.turns, num(e.num_turns));
    usage(p, e.usage, true);
    return true;
  }
  return false;
}

/** Codex `exec --json`: turn.started/completed/failed, item.* with the item's type, error. */
function codex(p: CliProgress, e: Json): boolean {
  const type = str(e.type) ?? '';
  if (type === 'turn.started') {
    p.turns++;
    return true;
  }
  if (type === 'turn.completed') {
    usage(p, e.usage, false);
    return true;
  }
  if (type === 'turn.failed') {
    const err = isObj(e.error) ? str(e.error.message) : str(e.message);
    p.error = clip(err ?? 'the CLI reported an error');
    return true;
  }
  // Codex reports warnings and retries ("reconnecting 1/5") as `error`: a failure only if the turn fails.
  if (type === 'error') {
    p.warning = clip(str(e.message) ?? 'error');
    return true;
  }
  if (type.startsWith('item.') && isObj(e.item)) {
    const item = e.item;
    if (type === 'item.started' || type === 'item.completed') {
      if (item.type === 'command_execution' && type === 'item.started') tool(p, 'exec_command');
      if (item.type === 'file_change' && type === 'item.completed') tool(p, 'apply_patch');
      if (item.type === 'mcp_tool_call' && type === 'item.started') tool(p, item.tool);
      if (item.type === 'agent_message' && type === 'item.completed') {
        const text = str(item.text);
        if (text !== undefined) p.result = clip(text);
      }
      if (item.type === 'error') p.warning = clip(str(item.message) ?? 'the CLI reported an error');
    }
    return true;
  }
  return false;
}

/** Other CLIs (OpenCode, Qwen Code, custom): common names of tool calls, text and results. */
function generic(p: CliProgress, e: Json): void {
  const type = str(e.type) ?? '';
  if (/tool_use|tool_call|tool-call/.test(type)) tool(p, e.name ?? (isObj(e.part) ? e.part.tool : undefined) ?? e.tool);
  if (type === 'step_start' || type === 'step-start' || type === 'turn') p.turns++;
  const text = str(e.result) ?? str(e.text) ?? (isObj(e.part) ? str(e.part.text) : undefined);
  if ((type === 'result' || type === 'text' || type === 'final') && text !== undefined) {
    p.result = clip(text);
    if (isApiErrorText(text)) p.error = clip(text);
  }
  if (type === 'error')
    p.error = clip(str(e.message) ?? (isObj(e.error) ? str(e.error.message) : undefined) ?? 'error');
  usage(p, e.usage, false);
}

/** Reads one line of the event stream into `p` (lines that are not JSON objects are ignored). */
export function readEventLine(p: CliProgress, line: string): void {
  const t = line.trim();
  if (!t.startsWith('{')) return;
  let e: unknown;
  try {
    e = JSON.parse(t);
  } catch {
    return;
  }
  if (!isObj(e)) return;
  p.events++;
  if (claude(p, e) || codex(p, e)) return;
  generic(p, e);
}

/**
 * Splits a growing stream into complete lines: feed it chunks, it returns the lines completed so
 * far and keeps the rest (a line longer than `maxLine` is dropped, so one huge event costs nothing).
 */
export class LineSplitter {
  private rest = '';
  private skipping = false;

  constructor(private readonly maxLine = 1_048_576) {}

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    const lines: string[] = [];
    for (const part of parts) {
      if (this.skipping) this.skipping = false;
      else lines.push(part);
    }
    if (this.rest.length > this.maxLine) {
      this.rest = '';
      this.skipping = true;
    }
    return lines;
  }

  /** The last line when the stream ended without a newline. */
  end(): string[] {
    const last = this.skipping ? '' : this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}
