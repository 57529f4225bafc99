/**
 * Tools an agent may call, as plain data both the workflows and the activities use: the built-in
 * tool names, per-role agent settings (which travel in workflow inputs) and the record every tool
 * call leaves beside the LLM calls. Deterministic: no I/O here.
 */
import { z } from 'zod';
import { plainLine } from './model-text';

// Kept in tool-checks.ts (no schemas) for the ticket workflow; exported here with the rest.
export { checksOf, DEFAULT_SANDBOX_TIMEOUT_MS, isAgent } from './tool-checks';

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
 * Events of an agent loop's history after which it continues as new (well under Temporal's
 * 50k-event limit and its 10k warning), so a long-running agent never hits the history limits.
 */
export const AGENT_HISTORY_BOUND = 4000;

/** Limits of one `run_command`, as configured per role (defaults in the sandbox). */
export const SandboxLimits = z
  .object({
    timeoutMs: z.number().int().min(100).max(3_600_000).optional(),
    cpuSeconds: z.number().int().min(1).max(3600).optional(),
    memoryMb: z.number().int().min(16).max(65_536).optional(),
    maxProcesses: z.number().int().min(1).max(4096).optional(),
    outputBytes: z.number().int().min(1024).max(16_777_216).optional(),
  })
  .strict();
export type SandboxLimits = z.infer<typeof SandboxLimits>;

/**
 * An MCP server a role's agent may use: a stdio command started by the worker, or a streamable
 * HTTP URL. Its tools reach the model as `<name>__<tool>`; `approval` applies to all of them.
 */
export const McpServerConfig = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9-]{1,24}$/, 'letters, digits and - (at most 24), e.g. "files"'),
    command: z.string().min(1).max(500).optional(),
    args: z.array(z.string().max(2000)).max(50).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4000)).optional(),
    url: z.url().optional(),
    approval: ToolApproval.optional(),
  })
  .strict()
  .refine(
    (s) => (s.command === undefined) !== (s.url === undefined),
    'give either "command" (stdio) or "url" (streamable HTTP)',
  );
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/** Separator of server and tool in the names MCP tools get in the conversation. */
export const MCP_TOOL_SEPARATOR = '__';

/** The MCP server a conversation tool name belongs to, with the server's own tool name. */
export function mcpToolOf(name: string, servers: readonly McpServerConfig[] | undefined) {
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
  /** Programs `run_command` may start (first word of the command); default SANDBOX_PROGRAMS. */
  programs?: string[];
  limits?: SandboxLimits;
  /** Per tool: whether a call waits for a person first (default 'never'). */
  approvals?: Partial<Record<string, ToolApproval>>;
  /** MCP servers whose tools the agent is offered. */
  mcp?: McpServerConfig[];
}

/** How a tool call must be approved: its own setting, else its MCP server's, else never. */
export function approvalOf(settings: AgentSettings, tool: string): ToolApproval {
  return settings.approvals?.[tool] ?? mcpToolOf(tool, settings.mcp)?.server.approval ?? 'never';
}

/** Programs `run_command` accepts by default. */
export const SANDBOX_PROGRAMS = ['node', 'npm', 'ls', 'cat', 'echo', 'true', 'false', 'grep', 'wc', 'head', 'tail'];

/** One tool call the model asked for (OpenAI `tool_calls` wire format, arguments as JSON text). */
export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: string;
}

/** What a tool call returned to the agent, as it goes back into the conversation. */
export interface ToolResultMessage {
  toolCallId: string;
  /** Bounded text the model sees (TOOL_RESULT_CHARS at most). */
  content: string;
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
  /** Exit code of a command (absent for other tools and for killed commands). */
  exitCode?: number;
  /** Bytes of the tool's output (before truncation). */
  bytes: number;
  /** Temporal activity attempt that produced the result. */
  attempt: number;
}

/** A short label of a tool call for activity summaries and records, e.g. `run_command npm test`. */
export function toolCallLabel(call: ToolCallRequest): string {
  let detail = '';
  try {
    const args = JSON.parse(call.arguments) as Record<string, unknown>;
    const first = args.command ?? args.path ?? args.page ?? Object.values(args)[0];
    if (typeof first === 'string' && first.trim() !== '') detail = ` ${first.trim()}`;
  } catch {
    detail = '';
  }
  const label = plainLine(`${call.name}${detail}`); // model text: one line, no bidi or control characters
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
}

/** An agent loop asks its run for a person's approval of one tool call. */
export interface ToolApprovalRequest {
  ticketId: string;
  /** Workflow id of the asking loop, where the decision goes. */
  loopWorkflowId: string;
  /** Unique within the loop (turn and call id). */
  requestId: string;
  tool: string;
  /** The call as a person reads it: tool and arguments (bounded). */
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
