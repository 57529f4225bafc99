/**
 * The gateway's request log: what the model was given on every call, for the hygiene check
 * (a worker must never be sent the goal or other tickets). A CLI re-sends its whole conversation
 * on every call, so logging every request in full grows with the square of its length: each line
 * holds only the messages a request added to the closest earlier one (`base` seq and `from`
 * index), and `readRequestLog` rebuilds every request in full. The log is bounded in bytes; past
 * the bound one line says how far it got and nothing more is written (the ledger counts the rest).
 * JSON lines, in a file of the attempt's space the CLI cannot reach (or in memory without one).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type OpenAI from 'openai';

/** One message as logged: its role, text, and the tool calls it made. */
export interface LoggedMessage {
  role: string;
  content: string;
  toolCalls?: { name: string; arguments: string }[];
}

/** One request as `readRequestLog` rebuilds it. */
export interface LoggedRequest {
  seq: number;
  at: string;
  format: string;
  model: string;
  messages: LoggedMessage[];
}

interface Line {
  seq: number;
  at: string;
  format: string;
  model: string;
  /** Seq of the earlier request whose first `from` messages this one starts with (0: none). */
  base: number;
  from: number;
  messages: LoggedMessage[];
}

/** Default bound of a log: 64 MiB. */
export const DEFAULT_LOG_BYTES = 64 * 1024 * 1024;

/** Earlier requests compared with each new one (a CLI's side conversations: titles, summaries). */
const KEPT = 8;

function flatten(m: OpenAI.ChatCompletionMessageParam): LoggedMessage {
  const content =
    typeof m.content === 'string'
      ? m.content
      : Array.isArray(m.content)
        ? m.content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('\n')
        : '';
  const calls = m.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : [];
  const toolCalls = calls.map((c) =>
    'function' in c ? { name: c.function.name, arguments: c.function.arguments } : { name: '', arguments: '' },
  );
  return { role: m.role, content, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
}

/** Appends requests to the log (see the module comment). */
export class RequestLog {
  private bytes = 0;
  private full = false;
  private readonly recent: { seq: number; keys: string[] }[] = [];
  private readonly memory: string[] = [];
  /** Requests not logged because the bound was reached. */
  dropped = 0;
  entries = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly maxBytes = DEFAULT_LOG_BYTES,
  ) {}

  /** Logs one request's messages (as sent upstream). */
  append(seq: number, format: string, model: string, messages: OpenAI.ChatCompletionMessageParam[]): void {
    if (this.full) {
      this.dropped++;
      return;
    }
    const flat = messages.map(flatten);
    const keys = flat.map((m) => JSON.stringify(m));
    let base = 0;
    let from = 0;
    for (const r of this.recent) {
      let k = 0;
      while (k < r.keys.length && k < keys.length && r.keys[k] === keys[k]) k++;
      if (k > from) [base, from] = [r.seq, k];
    }
    const line: Line = { seq, at: new Date().toISOString(), format, model, base, from, messages: flat.slice(from) };
    let text = `${JSON.stringify(line)}\n`;
    if (this.bytes + Buffer.byteLength(text) > this.maxBytes) {
      this.full = true;
      this.dropped++;
      text = `${JSON.stringify({ seq, truncated: true, note: `request log full at ${this.maxBytes} bytes: later requests are not logged` })}\n`;
    } else {
      this.entries++;
      this.recent.push({ seq, keys });
      if (this.recent.length > KEPT) this.recent.shift();
    }
    this.bytes += Buffer.byteLength(text);
    if (this.file) appendFileSync(this.file, text, { mode: 0o600 });
    else this.memory.push(text);
  }

  /** The log's text (for a log kept in memory; a file's is on disk). */
  text(): string {
    return this.file ? readFileSync(this.file, 'utf8') : this.memory.join('');
  }
}

/** Every logged request rebuilt in full from a log's text; `truncated` when the log hit its bound. */
export function parseRequestLog(text: string): { requests: LoggedRequest[]; truncated: boolean } {
  const byseq = new Map<number, LoggedMessage[]>();
  const requests: LoggedRequest[] = [];
  let truncated = false;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as Line & { truncated?: boolean };
    if (line.truncated) {
      truncated = true;
      continue;
    }
    const prefix = line.base > 0 ? (byseq.get(line.base) ?? []).slice(0, line.from) : [];
    const messages = [...prefix, ...line.messages];
    byseq.set(line.seq, messages);
    requests.push({ seq: line.seq, at: line.at, format: line.format, model: line.model, messages });
  }
  return { requests, truncated };
}

/** Reads a log file written by the gateway (see parseRequestLog). */
export function readRequestLog(file: string): { requests: LoggedRequest[]; truncated: boolean } {
  return parseRequestLog(readFileSync(file, 'utf8'));
}
