/**
 * What a tool call gives back to the agent loop, and the helpers that make the usual outcomes: an
 * error the agent reads, the agent's own invalid call, a tool this worker lacks, a bounded text.
 */
import type { ToolNotRun } from '../../shared/tools';
import { TOOL_RESULT_CHARS } from '../../shared/tools';
import type { ArtifactRef } from '../../shared/types';

/** What a tool call produced. */
export interface ToolOutcome {
  /** What the model is told (already bounded). */
  content: string;
  isError: boolean;
  /** Bytes of the full output. */
  bytes: number;
  exitCode?: number;
  /** Files the call created or changed in the ticket's own files. */
  written: ArtifactRef[];
  /** The full output, when it was stored (command output, screenshots). */
  outputRef?: ArtifactRef;
  /** Set when the tool did not run: the caller's mistake or a tool this worker lacks, not a finding. */
  notRun?: ToolNotRun;
}

/** Longest tool error message the agent reads (a model-chosen path or name may be any size). */
const TOOL_ERROR_CHARS = 2000;

/** A tool error the agent sees (not an activity failure). */
export function toolError(message: string): ToolOutcome {
  const text = message.length > TOOL_ERROR_CHARS ? `${message.slice(0, TOOL_ERROR_CHARS)} [cut]` : message;
  return { content: `ERROR: ${text}`, isError: true, bytes: Buffer.byteLength(message), written: [] };
}

/**
 * The agent's own mistake (bad arguments, a path not in the workspace, a refused command): the
 * tool did not run, the agent is told so, and the call is never evidence against a dependency.
 */
export function invalidCall(message: string): ToolOutcome {
  return {
    ...toolError(`${message}\n(the tool did not run: fix this call; it says nothing about the work being checked)`),
    notRun: 'invalid-call',
  };
}

/** A tool this worker cannot run (no browser, no sandbox): a setup problem, not a finding about the work. */
export function unavailableTool(message: string): ToolOutcome {
  return {
    ...toolError(`${message}\n(the tool did not run on this worker: a setup problem, not a finding about the work)`),
    notRun: 'unavailable',
  };
}

/** `text` bounded to what goes back into the conversation, saying how much was left out. */
export function bounded(text: string, max = TOOL_RESULT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[... ${text.length - max} more characters; the full output is stored as an artifact]`;
}
