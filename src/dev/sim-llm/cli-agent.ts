/**
 * The simulated model as the brain of a real coding-agent CLI (Claude Code, Codex, Qwen Code,
 * OpenCode), reached through Maestro's gateway as non-streamed chat completions that carry the
 * CLI's own tools. It finds the ticket Maestro gave the CLI in the conversation, writes the
 * ticket's deliverables (on a repo ticket, the repo worker's edit) with whichever file tool the CLI offers (Claude Code `Write`, OpenCode
 * `write`, Qwen Code `write_file`, or a shell heredoc through Codex's `exec_command`/`shell`),
 * reads an existing file first where the CLI insists, and then answers with a plain-text summary.
 * aider, which offers no tools, gets the files as text in its edit format (aider-edits.ts).
 */
import { aiderFormatOf, aiderReply } from './aider-edits';
import { isObject } from './http-util';
import { flattenContent } from './openai-format';
import { repoWorkResult } from './repo-agent';
import { isRepoPrompt } from './repo-prompt';
import { workResultFor } from './work';
import type { SimToolCall } from './agent';

/** What the simulated CLI brain does next: call the CLI's tools, or answer in text. */
export type CliAgentStep = { toolCalls: SimToolCall[] } | { text: string };

/** Tools Maestro's own agent loop offers; a request offering only these is not a CLI's. */
const MAESTRO_TOOLS = new Set(['read_file', 'list_files', 'write_file', 'run_command', 'check_page']);

interface ToolDef {
  name: string;
  parameters: Record<string, unknown>;
}

function toolDefs(tools: unknown): ToolDef[] {
  if (!Array.isArray(tools)) return [];
  const out: ToolDef[] = [];
  for (const t of tools) {
    const fn = isObject(t) && isObject(t.function) ? t.function : undefined;
    if (fn && typeof fn.name === 'string')
      out.push({ name: fn.name, parameters: isObject(fn.parameters) ? fn.parameters : {} });
  }
  return out;
}

/** How files are written with the tools offered: a file tool (its argument names) or a shell tool. */
type Writer =
  | { kind: 'file'; tool: string; pathArg: string; contentArg: string; read?: { tool: string; pathArg: string } }
  | { kind: 'shell'; tool: string; arg: string; array: boolean };

function writerOf(defs: ToolDef[]): Writer | undefined {
  const has = (n: string) => defs.find((d) => d.name === n);
  const props = (d: ToolDef) => (isObject(d.parameters.properties) ? d.parameters.properties : {});
  // Only a CLI's request: it offers tools Maestro's own agent never offers (MCP tools aside).
  if (!defs.some((d) => !MAESTRO_TOOLS.has(d.name) && !d.name.includes('__'))) return undefined;
  const fileTool = has('Write') ?? has('write') ?? has('write_file');
  if (fileTool) {
    const p = props(fileTool);
    const pathArg = ['file_path', 'filePath', 'path', 'absolute_path'].find((k) => k in p) ?? 'file_path';
    const contentArg = ['content', 'text', 'contents'].find((k) => k in p) ?? 'content';
    const reader = has('Read') ?? has('read') ?? has('read_file');
    const rp = reader ? props(reader) : {};
    const readPath = ['file_path', 'filePath', 'path', 'absolute_path'].find((k) => k in rp) ?? 'file_path';
    return {
      kind: 'file',
      tool: fileTool.name,
      pathArg,
      contentArg,
      ...(reader ? { read: { tool: reader.name, pathArg: readPath } } : {}),
    };
  }
  const shell = has('exec_command') ?? has('shell') ?? has('local_shell') ?? has('run_shell_command') ?? has('bash');
  if (!shell) return undefined;
  const p = props(shell);
  const arg = ['cmd', 'command'].find((k) => k in p) ?? 'command';
  const spec = p[arg];
  return { kind: 'shell', tool: shell.name, arg, array: isObject(spec) && spec.type === 'array' };
}

/** The text of every user message, in order (content parts joined). */
function userTexts(messages: unknown[]): string[] {
  return messages
    .filter((m) => isObject(m) && m.role === 'user')
    .map((m) => flattenContent((m as { content: unknown }).content));
}

/** Tool calls the conversation already made, by name. */
function pastToolNames(messages: unknown[]): string[] {
  const names: string[] = [];
  for (const m of messages) {
    if (!isObject(m) || m.role !== 'assistant' || !Array.isArray(m.tool_calls)) continue;
    for (const c of m.tool_calls) if (isObject(c) && isObject(c.function)) names.push(String(c.function.name));
  }
  return names;
}

/** A working directory a CLI names ("Working directory: /x", "working in the directory: /x"), first found. */
function cwdOf(texts: readonly string[]): string | undefined {
  const re =
    /(?:working directory|cwd|working in the directory)\b[^/\n]{0,40}?(\/[\w.@+/-]*)(?=[\s`'",;)]|\.?$|\.\s)/gim;
  for (const t of texts) for (const m of t.matchAll(re)) if (m[1] && m[1] !== '/') return m[1].replace(/\.$/, '');
  return undefined;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A shell script that writes each file (folders made first). */
function shellScript(files: readonly { path: string; content: string }[]): string {
  return files
    .map((f) => {
      const dir = f.path.includes('/') ? `mkdir -p ${quote(f.path.replace(/\/[^/]*$/, ''))} && ` : '';
      const body = f.content.endsWith('\n') ? f.content : `${f.content}\n`;
      return `${dir}cat > ${quote(f.path)} <<'MAESTRO_SIM_EOF'\n${body}MAESTRO_SIM_EOF`;
    })
    .join('\n');
}

/**
 * The next step for a request that carries a coding-agent CLI's tools and a Maestro ticket;
 * undefined for any other request (the simulator answers it as before).
 */
export function cliAgentStep(args: { messages: unknown[]; tools: unknown; system: string }): CliAgentStep | undefined {
  const writer = writerOf(toolDefs(args.tools));
  const texts = userTexts(args.messages);
  // aider offers no tools; it asks for its edits as text in a format its system prompt names.
  const textFormat = writer || args.tools !== undefined ? undefined : aiderFormatOf([args.system, ...texts]);
  if (!writer && !textFormat) return undefined;
  const withTicket = [...texts].reverse().find((t) => /^# Ticket T\d+: /m.test(t));
  if (!withTicket) return { text: 'There is no ticket in this conversation, so there is nothing to do.' };
  const at = withTicket.search(/^# Ticket T\d+: /m);
  const roleText = withTicket.slice(Math.max(0, at - 2000), at);
  // The CLI's prompt ends with "## How to deliver"; the simulator's parser knows "## Answer".
  const ticket = withTicket.slice(at).replace(/\n\n## How to deliver\n[\s\S]*$/, '\n\n## Answer\nWrite the files.');
  // A repo ticket's CLI edits the repository's files as the single-call repo worker would.
  const work = isRepoPrompt(ticket) ? repoWorkResult(ticket) : workResultFor(roleText, ticket, true);
  if (!writer) return { text: aiderReply(textFormat!, work.files, work.summary) };
  const past = pastToolNames(args.messages);
  const id = (i: number) => `call_cli_${past.length}_${i}`;
  const call = (i: number, name: string, a: Record<string, unknown>): SimToolCall => ({
    id: id(i),
    type: 'function',
    function: { name, arguments: JSON.stringify(a) },
  });
  if (past.includes(writer.tool)) return { text: work.summary };
  if (writer.kind === 'shell') {
    const script = shellScript(work.files);
    const value = writer.array ? ['bash', '-lc', script] : script;
    return { toolCalls: [call(0, writer.tool, { [writer.arg]: value })] };
  }
  // File tools want absolute paths: the CLI names its working directory in its system prompt
  // (Claude Code, OpenCode) or in a first context message (Qwen Code).
  const cwd = cwdOf([args.system, ...texts]);
  const abs = (p: string) => (cwd ? `${cwd.replace(/\/$/, '')}/${p}` : p);
  // A CLI that refuses to overwrite unread files gets the existing ones read first.
  const existing = /The current directory already holds: ([^\n]*)\./.exec(withTicket)?.[1]?.split(', ') ?? [];
  const toRead = work.files.filter((f) => existing.includes(f.path));
  if (writer.read && toRead.length > 0 && !past.includes(writer.read.tool))
    return { toolCalls: toRead.map((f, i) => call(i, writer.read!.tool, { [writer.read!.pathArg]: abs(f.path) })) };
  return {
    toolCalls: work.files.map((f, i) =>
      call(i, writer.tool, { [writer.pathArg]: abs(f.path), [writer.contentArg]: f.content }),
    ),
  };
}
