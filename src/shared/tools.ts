/**
 * Tools an agent may call, as plain data both the workflows and the activities use: the built-in
 * tool names, per-role agent settings (which travel in workflow inputs) and the record every tool
 * call leaves beside the LLM calls. Deterministic: no I/O here.
 */
import { z } from 'zod';
import type { ArtifactRef } from './types';
import { plainLine } from './model-text';
import { DEFAULT_SANDBOX_TIMEOUT_MS } from './tool-checks';

// Kept in tool-checks.ts (no schemas) for the ticket workflow; exported here with the rest.
export { checksOf, countsAsCheck, DEFAULT_SANDBOX_TIMEOUT_MS, failedCheck, isAgent } from './tool-checks';

/** Built-in tools; a role enables the ones it needs in maestro.config.json. */
export const BUILT_IN_TOOLS = ['read_file', 'list_files', 'write_file', 'run_command', 'check_page'] as const;

/** A built-in tool's name. */
export const BuiltInTool = z.enum(BUILT_IN_TOOLS);
export type BuiltInTool = z.infer<typeof BuiltInTool>;

/** When a call of a tool waits for a person: every call, the first call of the run, or never. */
export const ToolApproval = z.enum(['always', 'first-use', 'never']);
export type ToolApproval = z.infer<typeof ToolApproval>;

/** Default number of LLM turns of one agent loop before the ticket escalates. */
export const DEFAULT_MAX_TURNS = 12;

/** Largest tool result put back into the conversation; the full output is stored as an artifact. */
export const TOOL_RESULT_CHARS = 8000;

/**
 * Tool calls one turn may ask for (per role: `maxToolCallsPerTurn`). The calls past it are each
 * answered with a tool error naming the limit, so whatever a model asks for, a turn's results stay
 * bounded (one turn once asked for 261 calls and its results broke Temporal's 2 MB payload limit).
 */
export const DEFAULT_MAX_TOOL_CALLS_PER_TURN = 16;

/** Highest `maxToolCallsPerTurn` a role may set (keeps a turn's payloads far below 2 MB). */
export const MAX_TOOL_CALLS_PER_TURN = 64;

/** Largest arguments of one tool call, in bytes of JSON text (a `write_file` of the largest file fits). */
export const MAX_TOOL_ARGUMENT_BYTES = 1_048_576;

/** Longest text of a call's arguments shown at its approval gate; the rest is counted in bytes. */
export const APPROVAL_VIEW_CHARS = 2000;

/**
 * Events of an agent loop's history after which it continues as new (well under Temporal's
 * 50k-event limit and its 10k warning), so a long-running agent never hits the history limits.
 */
export const AGENT_HISTORY_BOUND = 4000;

/** Limits of one `run_command`, as configured per role (defaults in the sandbox). */
export const SandboxLimits = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .optional()
      .meta({ description: 'wall time of one command, ms', default: DEFAULT_SANDBOX_TIMEOUT_MS }),
    cpuSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .optional()
      .meta({ description: 'CPU time of one command, s', default: 30 }),
    memoryMb: z
      .number()
      .int()
      .min(16)
      .max(65_536)
      .optional()
      .meta({ description: 'memory of one command, MB', default: 1024 }),
    maxProcesses: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .optional()
      .meta({ description: 'processes one command may run at once', default: 64 }),
    outputBytes: z
      .number()
      .int()
      .min(1024)
      .max(16_777_216)
      .optional()
      .meta({ description: 'output of one command kept for the model, bytes', default: 1_048_576 }),
    /** Bytes a command may add to its workspace, in MB (a tmpfs quota where the worker is root). */
    diskMb: z
      .number()
      .int()
      .min(1)
      .max(65_536)
      .optional()
      .meta({ description: 'bytes a command may add to its workspace, MB', default: 256 }),
    /** Files and folders a command may create in its workspace. */
    maxFiles: z
      .number()
      .int()
      .min(10)
      .max(10_000_000)
      .optional()
      .meta({ description: 'files and folders a command may create', default: 20_000 }),
  })
  .strict();
export type SandboxLimits = z.infer<typeof SandboxLimits>;

/**
 * An MCP server a role's agent may use: a stdio command started by the worker, or a streamable
 * HTTP URL. Its tools reach the model as `<name>__<tool>`; `approval` applies to all of them.
 */
export const McpServerConfig = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,24}$/, 'letters, digits and - (at most 24), e.g. "files"')
      .describe('the server name; its tools reach the model as `<name>__<tool>`'),
    command: z.string().min(1).max(500).optional().describe('stdio server: the program the worker starts'),
    args: z.array(z.string().max(2000)).max(50).optional().describe('stdio server: its arguments'),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4000))
      .optional()
      .describe('stdio server: its environment variables'),
    url: z.url().optional().describe('streamable HTTP server: its URL (instead of `command`)'),
    approval: ToolApproval.optional().describe("approval of all the server's tools"),
  })
  .strict()
  .refine(
    (s) => (s.command === undefined) !== (s.url === undefined),
    'give either "command" (stdio) or "url" (streamable HTTP)',
  );
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/**
 * How a run names an MCP server: its name and the approval its tools need. What the server is (the
 * command the worker starts, or its URL) is defined only by the worker's own configuration, so
 * nobody who can start a run can make a worker execute a program (issue: config is untrusted).
 * Older histories carry full definitions here; workers ignore everything but these two fields.
 */
export interface McpServerRef {
  name: string;
  approval?: ToolApproval;
}

/** The reference a run carries for a server definition (drops command, args, env and URL). */
export function mcpServerRef(server: McpServerRef): McpServerRef {
  return { name: server.name, ...(server.approval ? { approval: server.approval } : {}) };
}

/** Separator of server and tool in the names MCP tools get in the conversation. */
export const MCP_TOOL_SEPARATOR = '__';

/** The MCP server a conversation tool name belongs to, with the server's own tool name. */
export function mcpToolOf<S extends McpServerRef>(name: string, servers: readonly S[] | undefined) {
  const i = name.indexOf(MCP_TOOL_SEPARATOR);
  if (i <= 0) return undefined;
  const server = (servers ?? []).find((s) => s.name === name.slice(0, i));
  return server ? { server, tool: name.slice(i + MCP_TOOL_SEPARATOR.length) } : undefined;
}

/**
 * The agent settings of a role as a run is given them (plain data in the ticket's input): a role
 * with `tools` works as an agent loop; one without keeps the single structured call.
 */
export interface AgentSettings {
  /** Built-in tools (may be empty when the role only has MCP servers). */
  tools: BuiltInTool[];
  maxTurns?: number;
  /** Tool calls one turn may make (default DEFAULT_MAX_TOOL_CALLS_PER_TURN); the rest get a tool error. */
  maxToolCallsPerTurn?: number;
  /** Programs `run_command` may start (first word of the command); default SANDBOX_PROGRAMS. */
  programs?: string[];
  limits?: SandboxLimits;
  /** Per tool: whether a call waits for a person first (default 'never'). */
  approvals?: Partial<Record<string, ToolApproval>>;
  /** MCP servers whose tools the agent is offered, by name (the worker defines what they are). */
  mcp?: McpServerRef[];
}

/** How a tool call must be approved: its own setting, else its MCP server's, else never. */
export function approvalOf(settings: AgentSettings, tool: string): ToolApproval {
  return settings.approvals?.[tool] ?? mcpToolOf(tool, settings.mcp)?.server.approval ?? 'never';
}

/** Programs `run_command` accepts by default. */
export const SANDBOX_PROGRAMS = ['node', 'npm', 'ls', 'cat', 'echo', 'true', 'false', 'grep', 'wc', 'head', 'tail'];

/**
 * Test runners and build tools a repo ticket's `run_command` and the repository's own tests may
 * start, beyond SANDBOX_PROGRAMS (issue 20); other runs keep the worker's ceiling.
 */
export const REPO_PROGRAMS = ['go', 'python3', 'python', 'pytest', 'npm', 'npx', 'cargo', 'make'];

/** Why a tool call did not run (see ToolCallRecord.notRun). */
export type ToolNotRun = 'invalid-call' | 'unavailable';

/**
 * One tool call the model asked for (OpenAI `tool_calls` wire format, arguments as JSON text).
 * Calls a turn hands to the loop were read strictly first: `arguments` is then the canonical JSON
 * of what was read (what runs), or empty with `argumentsRef` when it was too big to carry.
 */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
  /** Large arguments, stored by hash: the tool reads them from there (then `arguments` is ''). */
  argumentsRef?: ArtifactRef;
  /** Short description for summaries and records (see toolCallLabel). */
  label?: string;
  /** The arguments as a person approving the call sees them: exactly what runs, bounded with a marker. */
  view?: string;
}

/** What a tool call returned to the agent, as it goes back into the conversation. */
export interface ToolResultMessage {
  toolCallId: string;
  /** Bounded text the model sees (TOOL_RESULT_CHARS at most), or an excerpt of it when `contentRef` is set. */
  content: string;
  /** The full text the model sees, stored by hash when it is too long to carry in workflow payloads. */
  contentRef?: ArtifactRef;
}

/**
 * One tool call, recorded beside the LLM calls: which tool, for whom, how long it took, how it
 * ended and how many bytes it produced, so status and results can account for agent work.
 */
export interface ToolCallRecord {
  tool: string;
  role: string;
  ticketId: string;
  /** The LLM turn that asked for it (1-based). */
  turn: number;
  /** Short description, e.g. `run_command npm test`. */
  summary: string;
  startedAt: string;
  durationMs: number;
  /** 'ok', 'error' (the tool refused or failed; the agent was told why), 'rejected' (a person said no). */
  status: 'ok' | 'error' | 'rejected';
  /**
   * With status 'error': the tool did not run, so the call says nothing about the work it was
   * to check. 'invalid-call': the calling agent's own mistake (bad arguments, a path not in the
   * workspace, a refused command, an unknown or disabled tool); 'unavailable': this worker cannot
   * run the tool (no browser, no sandbox). Never evidence against a dependency.
   */
  notRun?: ToolNotRun;
  /** Exit code of a command (absent for other tools and for killed commands). */
  exitCode?: number;
  /** Bytes of the tool's output (before truncation). */
  bytes: number;
  /** Temporal activity attempt that produced the result. */
  attempt: number;
}

/** Tool-call records one agent attempt keeps (the latest); older ones are folded into one summary record. */
export const MAX_TOOL_CALL_RECORDS = 300;

/**
 * `records` bounded to `max`: the oldest are folded into one record that says how many calls (and
 * failed calls) it stands for, so an attempt's result and continue-as-new input stay bounded
 * whatever its turns and limits (200 turns x 64 calls would otherwise be ~3 MB of records).
 */
export function foldOldRecords(records: ToolCallRecord[], max = MAX_TOOL_CALL_RECORDS): ToolCallRecord[] {
  if (records.length <= max) return records;
  const old = records.slice(0, records.length - max + 1);
  const first = old[0]!;
  const earlier = /^(\d+) earlier tool calls/.exec(first.tool === '(earlier calls)' ? first.summary : '');
  const count = old.length - (earlier ? 1 : 0) + Number(earlier?.[1] ?? 0);
  const failedBefore = Number(/(\d+) failed/.exec(earlier ? first.summary : '')?.[1] ?? 0);
  const failed = old.filter((r) => r.status !== 'ok' && r.tool !== '(earlier calls)').length + failedBefore;
  const folded: ToolCallRecord = {
    ...first,
    tool: '(earlier calls)',
    summary: `${count} earlier tool calls not listed (${failed} failed)`,
    status: failed > 0 ? 'error' : 'ok',
    durationMs: old.reduce((n, r) => n + r.durationMs, 0),
    bytes: old.reduce((n, r) => n + r.bytes, 0),
  };
  delete folded.exitCode;
  return [folded, ...records.slice(old.length)];
}

/** A short label of a tool call for activity summaries and records, e.g. `run_command npm test`. */
export function toolCallLabel(call: ToolCallRequest): string {
  if (call.label !== undefined) return call.label;
  let detail = '';
  try {
    const args = JSON.parse(call.arguments) as Record<string, unknown>;
    if (typeof args !== 'object' || args === null) throw new Error('not an object');
    const first = args.command ?? args.path ?? args.page ?? Object.values(args)[0];
    if (typeof first === 'string' && first.trim() !== '') detail = ` ${first.trim()}`;
  } catch {
    detail = '';
  }
  const name = call.name.length > 64 ? `${call.name.slice(0, 61)}...` : call.name;
  const label = plainLine(`${name}${detail}`); // model text: one line, no bidi or control characters
  return label.length > 80 ? `${label.slice(0, 77)}...` : label;
}

/** Merges file lists by path, later lists winning: a ticket's own files over its earlier ones. */
export function mergeFiles<T extends { path: string }>(...lists: T[][]): T[] {
  const byPath = new Map<string, T>();
  for (const ref of lists.flat()) byPath.set(ref.path, ref);
  return [...byPath.values()];
}

/** Progress of an agent loop, for its `status` query (`maestro`'s views and the Web UI). */
export interface AgentLoopProgress {
  ticketId: string;
  attempt: number;
  /** Turns completed. */
  turn: number;
  maxTurns: number;
  toolCalls: ToolCallRecord[];
  /** Messages the loop dropped as invalid or not answering its request (the latest few). */
  ignored?: { name: string; problem: string }[];
}

/** An agent loop asks its run for a person's approval of one tool call. */
export interface ToolApprovalRequest {
  ticketId: string;
  /** Workflow id of the asking loop, where the decision goes. */
  loopWorkflowId: string;
  /** Unique within the loop (turn and call id). */
  requestId: string;
  tool: string;
  /** The call as a person reads it: tool and arguments (the call's `view`: what runs, bounded with a marker). */
  call: string;
  approval: Exclude<ToolApproval, 'never'>;
}

/** A person's decision on a tool call (or the run's, for a tool already approved on first use). */
export interface ToolApprovalDecision {
  requestId: string;
  approved: boolean;
  by: string;
  comment?: string;
}
