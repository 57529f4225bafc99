/**
 * What an agent turn hands to its loop of the tool calls the model asked for. The model may ask
 * for anything: a thousand calls, megabytes of arguments, arrays or `null` for arguments, keys
 * given twice, ids given twice, names that are no tool. Here, before any call reaches the
 * workflow (its payloads, its approval gates), each call is kept or refused:
 * - at most `maxToolCallsPerTurn` calls (default 16) are considered; every later one is answered
 *   with a tool error naming the limit, and one record counts them;
 * - a kept call's arguments are read strictly (tool-arguments.ts) and carried as their canonical
 *   text, which is both what runs and what an approver is shown (`view`); large ones are stored
 *   by hash and carried as a reference;
 * - a refused call is answered in the conversation at once (the model reads why) and recorded
 *   with status `error`; it never opens a gate or starts an activity.
 */
import type { AgentMessage } from '../llm/tool-turn';
import type { ArtifactStore } from '../artifacts/store';
import { approvalView, canonicalArguments, readToolArguments } from '../tools/tool-arguments';
import type { FunctionTool } from '../tools/tool-specs';
import {
  BuiltInTool,
  DEFAULT_MAX_TOOL_CALLS_PER_TURN,
  mcpToolOf,
  toolCallLabel,
  type AgentSettings,
  type ToolCallRecord,
  type ToolCallRequest,
} from '../../shared/tools';

/** Arguments longer than this (bytes) travel by reference instead of inside workflow payloads. */
export const INLINE_ARGUMENT_BYTES = 4096;

/** Longest call id carried into the workflow (it names approval requests and tool messages). */
const MAX_CALL_ID_CHARS = 128;

/** Arguments of a refused call longer than this are replaced in the stored conversation. */
const KEPT_REFUSED_ARGUMENT_BYTES = 2048;

/** Who and where, for records and stored arguments. */
export interface TurnCallsContext {
  ticketId: string;
  role: string;
  turn: number;
  attempt: number;
  activityAttempt: number;
  settings: AgentSettings;
  /** The tools the turn offered (built-in specs and MCP tools), for their parameter names. */
  offered: FunctionTool[];
  store: ArtifactStore;
}

/** The turn's calls sorted out. */
export interface VettedCalls {
  /** Calls to run (in the model's order), each read, canonical and labelled. */
  accepted: ToolCallRequest[];
  /** Tool messages answering the refused calls (go into the conversation now). */
  answers: AgentMessage[];
  /** Records of the refused calls (bounded: one per refused call within the limit, one for all past it). */
  records: ToolCallRecord[];
  /** The assistant message's tool calls as stored: duplicate ids made unique, huge refused arguments left out. */
  stored: ToolCallRequest[];
}

function parametersOf(tool: FunctionTool | undefined): string[] {
  const props = (tool?.function.parameters as { properties?: unknown } | undefined)?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : [];
}

/** Why a call to `name` cannot run at all (no such tool for this role), or undefined. */
function unknownTool(name: string, settings: AgentSettings, offered: FunctionTool[]): string | undefined {
  if ((settings.tools as string[]).includes(name) || mcpToolOf(name, settings.mcp)) return undefined;
  const available = [...settings.tools, ...offered.map((t) => t.function.name).filter((n) => n.includes('__'))];
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}...` : name);
  return BuiltInTool.safeParse(name).success
    ? `tool ${name} is not enabled for this role; available: ${available.join(', ')}`
    : `unknown tool ${shown}; available: ${[...new Set(available)].join(', ')}`;
}

/** Sorts out the tool calls of one turn (see the module comment). */
export async function vetTurnCalls(calls: ToolCallRequest[], ctx: TurnCallsContext): Promise<VettedCalls> {
  const cap = ctx.settings.maxToolCallsPerTurn ?? DEFAULT_MAX_TOOL_CALLS_PER_TURN;
  const out: VettedCalls = { accepted: [], answers: [], records: [], stored: [] };
  const ids = new Set<string>();
  const now = new Date().toISOString();
  const record = (tool: string, summary: string, bytes: number): ToolCallRecord => ({
    tool: tool.length > 64 ? `${tool.slice(0, 61)}...` : tool,
    role: ctx.role,
    ticketId: ctx.ticketId,
    turn: ctx.turn,
    summary,
    startedAt: now,
    durationMs: 0,
    status: 'error',
    bytes,
    attempt: ctx.activityAttempt,
  });
  for (const [i, call] of calls.entries()) {
    const usable = call.id !== '' && call.id.length <= MAX_CALL_ID_CHARS && !ids.has(call.id);
    // The conversation needs one answer per call id: a repeated or unusable id gets one of its own.
    let id = usable ? call.id : `call_maestro_${ctx.turn}_${i + 1}`;
    while (!usable && ids.has(id)) id += '_';
    ids.add(id);
    const refuse = (error: string, withRecord = true) => {
      out.answers.push({ role: 'tool', tool_call_id: id, content: `ERROR: ${error}` });
      const bytes = Buffer.byteLength(call.arguments);
      const big = bytes > KEPT_REFUSED_ARGUMENT_BYTES;
      const omitted = JSON.stringify({ omitted: `${bytes} bytes of refused arguments` });
      out.stored.push({ id, name: call.name, arguments: big ? omitted : call.arguments });
      if (withRecord)
        out.records.push(record(call.name, toolCallLabel({ ...call, arguments: big ? '' : call.arguments }), bytes));
    };
    if (i >= cap) {
      refuse(
        `call ${i + 1} of ${calls.length} refused: at most ${cap} tool calls per turn (the first ${cap} were run or answered); ask for the others in your next turn`,
        false,
      );
      continue;
    }
    if (!usable) {
      const why =
        call.id === ''
          ? 'the call has no id'
          : call.id.length > MAX_CALL_ID_CHARS
            ? `the call's id is over ${MAX_CALL_ID_CHARS} characters`
            : `another call of this turn has the same id ${JSON.stringify(call.id)}`;
      refuse(`${call.name.slice(0, 64)}: ${why}; give every call its own id`);
      continue;
    }
    const unknown = unknownTool(call.name, ctx.settings, ctx.offered);
    if (unknown) {
      refuse(unknown);
      continue;
    }
    const read = readToolArguments(call.arguments);
    if (!read.ok) {
      refuse(`${call.name}: ${read.error}`);
      continue;
    }
    const spec = ctx.offered.find((t) => t.function.name === call.name);
    const canonical = canonicalArguments(read.value, parametersOf(spec));
    const label = toolCallLabel({ id, name: call.name, arguments: canonical });
    const view = approvalView(canonical);
    out.stored.push({ id, name: call.name, arguments: call.arguments });
    if (Buffer.byteLength(canonical) <= INLINE_ARGUMENT_BYTES) {
      out.accepted.push({ id, name: call.name, arguments: canonical, label, view });
      continue;
    }
    const argumentsRef = await ctx.store.put({
      path: `agent/${ctx.ticketId}-attempt-${ctx.attempt}-turn-${ctx.turn}-call-${i + 1}.args.json`,
      content: canonical,
    });
    out.accepted.push({ id, name: call.name, arguments: '', argumentsRef, label, view });
  }
  if (calls.length > cap) {
    const over = calls.length - cap;
    const bytes = calls.slice(cap).reduce((n, c) => n + Buffer.byteLength(c.arguments), 0);
    out.records.push(
      record('(over the limit)', `${over} tool calls refused: over the limit of ${cap} per turn`, bytes),
    );
  }
  return out;
}
