/**
 * One attempt of a ticket by an agent: a bounded loop of LLM turns, each followed by the tool
 * calls the model asked for, every turn and every tool call its own activity. It runs as a child
 * of the ticket workflow so it can continue as new when its history grows past a bound, carrying
 * only references (conversation, files) and records. Out of turns, it ends with the reason and
 * the ticket escalates.
 */
import { failedCalls, rootCause, ticketFailure } from './failures';
import { isPermitsUsedUp } from './permit-calls';
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import type { FunctionTool } from '../activities/tools/tool-specs';
import { agentLoopStatusQuery, toolApprovalDecisionSignal, toolApprovalRequestSignal } from '../shared/messages';
import { summaryText } from '../shared/model-text';
import type { Ticket } from '../shared/schemas';
import {
  AGENT_HISTORY_BOUND,
  approvalOf,
  DEFAULT_MAX_TURNS,
  foldOldRecords,
  mergeFiles,
  toolCallLabel,
  type AgentSettings,
  type ToolApprovalDecision,
  type ToolCallRecord,
  type ToolCallRequest,
  type ToolResultMessage,
} from '../shared/tools';
import type { ArtifactRef, Budget, LlmCallRecord, RoleInfo, TicketOutput } from '../shared/types';
import type { RepoWork } from '../shared/repo';
import { addUsage, emptyUsage, totalTokens, usageOfRecord, type Usage } from '../shared/usage';
import { ToolApprovalDecisionPayload } from '../shared/tool-approval-payloads';
import { LLM_ACTIVITY, roleActivityOptions, toolActivityOptions } from './activity-options';
import { badInput, onQuery, onSignal, type IgnoredMessage } from './message-handlers';
import { TOOL_APPROVAL_NONCE_PATCH } from './patches';

const { agentTurn, agentTool, agentListTools } = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

/** The loop's state: what continue-as-new carries (references and records, no file contents). */
export interface AgentLoopState {
  /** Turns completed. */
  turn: number;
  conversation?: ArtifactRef;
  toolResults: ToolResultMessage[];
  problem?: string;
  own: ArtifactRef[];
  calls: LlmCallRecord[];
  toolCalls: ToolCallRecord[];
  usage: Usage;
  model?: string;
  /** Tools of the role's MCP servers, listed once (carried across continue-as-new). */
  mcpTools?: FunctionTool[];
}

/** Input of `agentLoopWorkflow`. */
export interface AgentLoopInput {
  runId: string;
  ticket: Ticket;
  role?: RoleInfo;
  settings: AgentSettings;
  dependencies: TicketOutput[];
  feedback?: string;
  attempt: number;
  /** The ticket's budget and what it spent before this attempt: the loop stops before a turn past it. */
  budget?: Budget;
  spentBefore?: Usage;
  /**
   * HTTP calls this execution may make under the run's budget permits (absent: no limit). Used
   * up, the loop ends `paused` and the ticket resumes it under a new grant (ticket-spending.ts).
   */
  callPermits?: number;
  /** Set by continue-as-new, and when the ticket resumes a paused loop. */
  state?: AgentLoopState;
  /** History events after which the loop continues as new (default AGENT_HISTORY_BOUND). */
  historyBound?: number;
  /** Repo runs: the tree the ticket works on (passed to every turn and tool call). */
  repo?: RepoWork;
}

/** How the attempt ended: a final answer, or an escalation with its reason. */
export interface AgentLoopOutput {
  summary: string;
  artifacts: ArtifactRef[];
  usage: Usage;
  calls: LlmCallRecord[];
  toolCalls: ToolCallRecord[];
  turns: number;
  model?: string;
  escalation?: 'turns' | 'budget';
  reason?: string;
  /** The loop used every call its permits allowed: its state, to resume under a new grant. */
  paused?: AgentLoopState;
}

function overBudget(input: AgentLoopInput, usage: Usage): boolean {
  const b = input.budget;
  if (!b) return false;
  const spent = addUsage(input.spentBefore ?? emptyUsage(), usage);
  return (b.usd !== undefined && spent.usd >= b.usd) || (b.tokens !== undefined && totalTokens(spent) >= b.tokens);
}

/** Runs one agent attempt of a ticket to its final answer or its escalation. */
export async function agentLoopWorkflow(input: AgentLoopInput): Promise<AgentLoopOutput> {
  const s: AgentLoopState = input.state ?? {
    turn: 0,
    toolResults: [],
    own: [],
    calls: [],
    toolCalls: [],
    usage: emptyUsage(),
  };
  try {
    return await runTurns(input, s);
  } catch (err) {
    // The run bills a failed attempt from its failure: the calls of every earlier turn go with it.
    throw ticketFailure(err, s.calls);
  }
}

/** The turns of agentLoopWorkflow, from the state `s` (carried across continue-as-new). */
async function runTurns(input: AgentLoopInput, s: AgentLoopState): Promise<AgentLoopOutput> {
  const { ticket } = input;
  const maxTurns = input.settings.maxTurns ?? DEFAULT_MAX_TURNS;
  /** The latest messages the loop dropped, shown by its status query (the loop keeps no audit log). */
  const ignored: { name: string; problem: string }[] = [];
  const audit = (m: IgnoredMessage) => {
    if (ignored.push({ name: m.name, problem: m.problem }) > 10) ignored.shift();
  };
  onQuery(agentLoopStatusQuery, () => ({
    ticketId: ticket.id,
    attempt: input.attempt,
    turn: s.turn,
    maxTurns,
    toolCalls: s.toolCalls,
    ...(ignored.length > 0 ? { ignored: [...ignored] } : {}),
  }));
  const roleOptions = roleActivityOptions(input.role);
  const model = input.role?.model ? ` (${input.role.model})` : '';
  const depFiles = input.dependencies.flatMap((d) => d.artifacts);
  const end = (summary: string, extra: Partial<AgentLoopOutput> = {}): AgentLoopOutput => ({
    summary,
    artifacts: s.own,
    usage: s.usage,
    calls: s.calls,
    toolCalls: s.toolCalls,
    turns: s.turn,
    ...(s.model ? { model: s.model } : {}),
    ...extra,
  });

  // Calls this execution may still make under the run's permits (undefined: no limit).
  const base = s.calls.length;
  const permitsLeft = () => (input.callPermits === undefined ? undefined : input.callPermits - (s.calls.length - base));
  const pause = () => end('paused: the calls the run granted are used up', { paused: s });

  const decisions = new Map<string, ToolApprovalDecision>();
  /** Requests sent to the run and not answered yet: only their decisions are taken. */
  const waiting = new Set<string>();
  onSignal(
    toolApprovalDecisionSignal,
    ToolApprovalDecisionPayload,
    (d) => {
      if (!waiting.delete(d.requestId))
        throw badInput(`decision for request ${d.requestId.slice(0, 80)}, which is not waiting for one`);
      decisions.set(d.requestId, d);
    },
    audit,
  );
  /** Asks the run for a person's approval when the tool needs it; the rejection comment, or undefined. */
  const approval = async (call: ToolCallRequest, turn: number): Promise<string | undefined> => {
    const mode = approvalOf(input.settings, call.name);
    if (mode === 'never') return undefined;
    // The nonce is learned only by the run (in the request), so a decision cannot be guessed.
    const requestId = patched(TOOL_APPROVAL_NONCE_PATCH) ? `${turn}:${call.id}:${uuid4()}` : `${turn}:${call.id}`;
    waiting.add(requestId);
    // The call's view is exactly what runs (read strictly by agentTurn); histories from before it show the raw text.
    const args = call.view ?? (call.arguments.length > 600 ? `${call.arguments.slice(0, 600)}...` : call.arguments);
    await getExternalWorkflowHandle(input.runId).signal(toolApprovalRequestSignal, {
      ticketId: ticket.id,
      loopWorkflowId: workflowInfo().workflowId,
      requestId,
      tool: call.name,
      call: `${call.name} ${args}`,
      approval: mode,
    });
    await condition(() => decisions.has(requestId));
    const d = decisions.get(requestId)!;
    return d.approved ? undefined : `${d.comment ?? 'no reason given'} (rejected by ${d.by})`;
  };

  for (;;) {
    if (s.turn >= maxTurns) {
      const last = s.toolCalls.slice(-3).map((c) => `${c.summary} (${c.status})`);
      const calls = last.length > 0 ? `; last tool calls: ${last.join(', ')}` : '';
      const invalid = s.problem ? `; its last answer was not valid: ${s.problem}` : '';
      const reason = `the ${ticket.role} agent used all ${maxTurns} turns without a final answer${invalid}${calls}`;
      return end(reason, { escalation: 'turns', reason });
    }
    if (overBudget(input, s.usage))
      return end(`the ticket budget ran out after ${s.turn} turns`, {
        escalation: 'budget',
        reason: 'ticket budget used up',
      });
    if (
      workflowInfo().historyLength > (input.historyBound ?? AGENT_HISTORY_BOUND) ||
      workflowInfo().continueAsNewSuggested
    ) {
      const left = permitsLeft();
      return continueAsNew<typeof agentLoopWorkflow>({
        ...input,
        state: s,
        ...(left !== undefined ? { callPermits: left } : {}),
      });
    }
    const left = permitsLeft();
    if (left !== undefined && left <= 0) return pause();

    if (input.settings.mcp?.length && !s.mcpTools)
      s.mcpTools = await agentListTools.executeWithOptions(
        { summary: `${ticket.role} ${ticket.id}: list MCP tools`, ...toolActivityOptions(input.role, input.settings) },
        [{ runId: input.runId, servers: input.settings.mcp }],
      );
    const turn = ++s.turn;
    const out = await agentTurn
      .executeWithOptions({ summary: `${ticket.role} ${ticket.id} turn ${turn}${model}`, ...roleOptions }, [
        {
          runId: input.runId,
          ticket,
          dependencies: input.dependencies,
          ...(input.feedback !== undefined ? { feedback: input.feedback } : {}),
          attempt: input.attempt,
          turn,
          settings: input.settings,
          ...(s.conversation ? { conversation: s.conversation } : {}),
          toolResults: s.toolResults,
          ...(s.problem ? { problem: s.problem } : {}),
          own: s.own,
          ...(s.mcpTools ? { mcpTools: s.mcpTools } : {}),
          ...(left !== undefined ? { callPermits: left } : {}),
          ...(input.repo ? { repo: input.repo } : {}),
        },
      ])
      .catch((err: unknown) => {
        const cause = rootCause(err);
        if (!isPermitsUsedUp(cause)) throw err;
        // The grant ran out in this turn (its retries): keep its calls and redo it under a new one.
        const calls = failedCalls(cause);
        s.calls.push(...calls);
        s.usage = calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), s.usage);
        s.turn--;
        return undefined;
      });
    if (!out) return pause();
    s.calls.push(...out.calls);
    s.usage = addUsage(s.usage, out.usage);
    s.model = out.model;
    s.conversation = out.conversation;
    s.toolResults = [];
    delete s.problem;
    if (out.final) {
      s.own = out.final.artifacts;
      return end(out.final.summary);
    }
    if (out.problem) s.problem = out.problem;
    // Calls refused without running (over the per-turn limit, unreadable arguments): already answered.
    if (out.refusedCalls) s.toolCalls.push(...out.refusedCalls);
    for (const call of out.toolCalls) {
      const rejected = await approval(call, turn);
      const res = await agentTool.executeWithOptions(
        {
          summary: `${ticket.role} ${ticket.id} turn ${turn}: ${summaryText(toolCallLabel(call))}`,
          ...toolActivityOptions(input.role, input.settings),
        },
        [
          {
            runId: input.runId,
            ticketId: ticket.id,
            role: ticket.role,
            turn,
            call,
            settings: input.settings,
            dependencies: depFiles,
            own: s.own,
            ...(rejected !== undefined ? { rejected } : {}),
            ...(input.repo ? { repo: input.repo } : {}),
          },
        ],
      );
      s.own = mergeFiles(s.own, res.written);
      s.toolResults.push(res.result);
      s.toolCalls.push(res.record);
    }
    s.toolCalls = foldOldRecords(s.toolCalls);
  }
}
