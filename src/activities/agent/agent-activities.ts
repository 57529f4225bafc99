/**
 * The two activities of an agent loop. `agentTurn` is one LLM turn: it loads the conversation from
 * the artifact store (claim check: the workflow carries only its reference), appends the previous
 * turn's tool results, asks the model, and stores the longer conversation again. `agentTool` runs
 * one tool call over the ticket's workspace. Each is its own activity, so a crash repeats neither
 * a completed turn nor a completed tool call.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { SCHEMA_NAMES } from '../../shared/constants';
import { FailureType } from '../../shared/errors';
import { WorkResult, type Ticket } from '../../shared/schemas';
import {
  approvalOf,
  BuiltInTool,
  DEFAULT_MAX_TOOL_CALLS_PER_TURN,
  DEFAULT_MAX_TURNS,
  mcpToolOf,
  mergeFiles,
  REPO_PROGRAMS,
  SANDBOX_PROGRAMS,
  toolCallLabel,
  type AgentSettings,
  type McpServerConfig,
  type McpServerRef,
  type SandboxLimits,
  type ToolApproval,
  type ToolCallRecord,
  type ToolCallRequest,
  type ToolResultMessage,
} from '../../shared/tools';
import type { ArtifactRef, LlmCallRecord, TicketOutput } from '../../shared/types';
import type { RepoWork } from '../../shared/repo';
import { addUsage, emptyUsage, usageOfRecord, type Usage } from '../../shared/usage';
import {
  checkPermits,
  earlierCalls,
  failureWithCalls,
  lostStreamingCall,
  progressTracker,
  WORKER_IDENTITY,
  withActivityContext,
} from '../context';
import type { ActivityDeps } from '../deps';
import type { AgentMessage } from '../llm/tool-turn';
import { openSnapshot } from '../repo/cache';
import { repoPromptView } from '../repo/repo-view';
import { answerFiles, droppedNote, type RepoTree } from '../repo/tree';
import { dependencyViews, workerRole } from '../roles/worker';
import { bounded, invalidCall, runBuiltInTool, toolError, type ToolOutcome } from '../tools/builtin-tools';
import { callMcpTool, McpToolCache } from '../tools/mcp';
import { DEFAULT_SANDBOX_LIMITS } from '../tools/sandbox';
import { toolSpecs, type FunctionTool } from '../tools/tool-specs';
import { readToolArguments } from '../tools/tool-arguments';
import { buildAgentPrompt, lastTurnNotice } from './agent-prompt';
import { answersInCallOrder, cut, resultMessage, storedAssistant } from './conversation';
import { vetTurnCalls } from './turn-calls';
import { llmCallObserver } from '../../telemetry/observe';

/** Longest explanation of an invalid final answer carried to the next turn. */
const MAX_PROBLEM_CHARS = 4000;

/** Input of `agentTurn`. */
export interface AgentTurnInput {
  runId: string;
  ticket: Ticket;
  dependencies: TicketOutput[];
  feedback?: string;
  attempt: number;
  /** 1-based number of this turn. */
  turn: number;
  settings: AgentSettings;
  /** The conversation so far (absent on the first turn). */
  conversation?: ArtifactRef;
  /** Results of the tool calls the previous turn asked for. */
  toolResults: ToolResultMessage[];
  /** A problem with the previous final answer, to show the model. */
  problem?: string;
  /** The ticket's own files so far (written by tools). */
  own: ArtifactRef[];
  /** Tools of the role's MCP servers (listed once per loop, see `agentListTools`). */
  mcpTools?: FunctionTool[];
  /**
   * HTTP calls the run's budget permits allow this turn, over all its attempts (absent: no
   * limit); past them the turn fails with `PermitsUsedUp` and the loop asks for more.
   */
  callPermits?: number;
  /** Repo runs: the tree the ticket works on (its own files are laid over it). */
  repo?: RepoWork;
}

/** Output of `agentTurn`. */
export interface AgentTurnOutput {
  conversation: ArtifactRef;
  /** The calls to run: read strictly, at most `maxToolCallsPerTurn` (see turn-calls.ts). */
  toolCalls: ToolCallRequest[];
  /** Records of the calls refused without running (already answered in the conversation). */
  refusedCalls?: ToolCallRecord[];
  /** Set when the model gave a valid final answer: the summary and every delivered file. */
  final?: { summary: string; artifacts: ArtifactRef[] };
  problem?: string;
  usage: Usage;
  model: string;
  /** Every call of this turn, its failed attempts' too (a failure lists them in `details[0].calls`). */
  calls: LlmCallRecord[];
}

/** Input of `agentTool`. */
export interface AgentToolInput {
  runId: string;
  ticketId: string;
  role: string;
  turn: number;
  call: ToolCallRequest;
  settings: AgentSettings;
  dependencies: ArtifactRef[];
  own: ArtifactRef[];
  /** Set when a person rejected this call at its gate: the tool does not run, the agent reads why. */
  rejected?: string;
  /** Repo runs: the tree the tool works in (`own` is laid over it; `dependencies` are in it already). */
  repo?: RepoWork;
}

/** Output of `agentTool`. */
export interface AgentToolOutput {
  result: ToolResultMessage;
  /** Files the call created or changed (they join the ticket's own files). */
  written: ArtifactRef[];
  record: ToolCallRecord;
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The worker's own definition of each server a run names. A run can name servers but never define
 * one: the command, arguments, environment or URL it carries (older histories do) are ignored.
 */
export function workerMcpServers(
  deps: Pick<ActivityDeps, 'mcpServers'>,
  refs: readonly McpServerRef[],
): McpServerConfig[] {
  return refs.map((ref) => {
    const server = (deps.mcpServers ?? []).find((s) => s.name === ref.name);
    if (server) return server;
    const known = (deps.mcpServers ?? []).map((s) => s.name);
    throw ApplicationFailure.create({
      type: FailureType.ToolUnavailable,
      message: `MCP server "${ref.name}" is not defined in this worker's configuration (it defines ${known.length ? known.join(', ') : 'none'}); runs only name MCP servers: define it under "mcpServers" in the maestro.config.json of the worker`,
      nonRetryable: true,
    });
  });
}

/**
 * The programs `run_command` may start for this call: what the run asks for, within what this
 * worker allows (its configuration's `programs` plus the defaults). A run cannot widen the list.
 */
export function workerPrograms(
  deps: Pick<ActivityDeps, 'allowedPrograms'>,
  settings: AgentSettings,
  repo = false,
): string[] {
  const ceiling = new Set([...SANDBOX_PROGRAMS, ...(deps.allowedPrograms ?? [])]);
  const allowed = (settings.programs ?? SANDBOX_PROGRAMS).filter((p) => ceiling.has(p));
  // A repo ticket runs its repository's test runners and build tools (issue 20).
  return repo ? [...new Set([...allowed, ...REPO_PROGRAMS])] : allowed;
}

/**
 * The limits of `run_command` for this call: what the run asks for, never more than this worker's
 * own definition of the role allows (its configuration's `sandbox`, else the defaults). A run sent
 * straight to Temporal cannot give its commands an hour, 64 GB or 4096 processes; it can lower them.
 */
export function workerLimits(
  deps: Pick<ActivityDeps, 'roles'>,
  role: string,
  settings: AgentSettings,
): Required<SandboxLimits> {
  const ceiling = { ...DEFAULT_SANDBOX_LIMITS, ...deps.roles.find((r) => r.name === role)?.agent?.limits };
  const asked = settings.limits ?? {};
  const out = { ...ceiling };
  for (const key of Object.keys(ceiling) as (keyof SandboxLimits)[]) {
    const v = asked[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = Math.min(v, ceiling[key]);
  }
  return out;
}

const APPROVAL_RANK: Record<ToolApproval, number> = { never: 0, 'first-use': 1, always: 2 };

/**
 * Why this call must not run, when the worker's own configuration wants a person to approve it
 * (the role's `approvals`, else its MCP server's `approval`) more often than the run asked for:
 * the run's gate then never asked anyone. A run can ask for more approvals, never fewer.
 */
export function approvalShortfall(
  deps: Pick<ActivityDeps, 'roles' | 'mcpServers'>,
  role: string,
  settings: AgentSettings,
  tool: string,
): string | undefined {
  const own = deps.roles.find((r) => r.name === role)?.agent;
  const server = mcpToolOf(tool, settings.mcp)?.server.name;
  const required: ToolApproval =
    own?.approvals?.[tool] ?? (deps.mcpServers ?? []).find((s) => s.name === server)?.approval ?? 'never';
  const asked = approvalOf(settings, tool);
  if (APPROVAL_RANK[asked] >= APPROVAL_RANK[required]) return undefined;
  return `${tool} needs a person's approval (${required}) on this worker, and this run asks for ${asked}: the call was not made; set "approvals" in the role as the worker's maestro.config.json does`;
}

/** One MCP `call_tool`; the server's errors and unreachable servers are tool errors the agent reads. */
async function mcpCall(deps: ActivityDeps, input: AgentToolInput, rawArgs: string): Promise<ToolOutcome> {
  const named = mcpToolOf(input.call.name, input.settings.mcp)!;
  let target: { server: McpServerConfig; tool: string };
  try {
    target = { server: workerMcpServers(deps, [named.server])[0]!, tool: named.tool };
  } catch (err) {
    return invalidCall(`${input.call.name}: ${(err as Error).message}`);
  }
  const read = readToolArguments(rawArgs);
  if (!read.ok) return invalidCall(`${input.call.name}: ${read.error}`);
  try {
    const res = await callMcpTool(target.server, target.tool, read.value);
    return {
      content: bounded(res.isError ? `ERROR: ${res.text}` : res.text),
      isError: res.isError,
      bytes: Buffer.byteLength(res.text),
      written: [],
    };
  } catch (err) {
    return toolError(`${input.call.name}: MCP server ${target.server.name} failed: ${(err as Error).message}`);
  }
}

/** Opens a repo ticket's start tree on first use (once per tool call). */
function repoOpener(deps: ActivityDeps, repo: RepoWork): { open: () => Promise<RepoTree> } {
  let opened: Promise<RepoTree> | undefined;
  return {
    open: () => (opened ??= openSnapshot(deps.store, repo.start).then((gitDir) => ({ gitDir, head: repo.start.head }))),
  };
}

/** Creates the agent-loop activities over `deps`. */
export function createAgentActivities(deps: ActivityDeps) {
  const mcpTools = new McpToolCache();
  return {
    /** The tools of a role's MCP servers, listed once per run and server on this worker. */
    async agentListTools(input: { runId: string; servers: McpServerRef[] }): Promise<FunctionTool[]> {
      const servers = workerMcpServers(deps, input.servers);
      try {
        return await withActivityContext(() => mcpTools.tools(input.runId, servers));
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.ToolUnavailable,
          message: `could not list the tools of MCP server(s) ${input.servers.map((s) => s.name).join(', ')}: ${(err as Error).message}; check "mcpServers" in maestro.config.json`,
        });
      }
    },

    async agentTurn(input: AgentTurnInput): Promise<AgentTurnOutput> {
      const agentLlm = deps.agentLlm;
      if (!agentLlm)
        throw ApplicationFailure.create({
          type: FailureType.BadInput,
          message: 'this worker has no tool-calling LLM client (deps.agentLlm): update the worker',
          nonRetryable: true,
        });
      const role = workerRole(deps, input.ticket);
      const maxTurns = input.settings.maxTurns ?? DEFAULT_MAX_TURNS;
      let messages: AgentMessage[];
      if (input.conversation) {
        messages = JSON.parse((await deps.store.read(input.conversation)).toString('utf8')) as AgentMessage[];
      } else {
        const prompt = buildAgentPrompt({
          roleSystemPrompt: role.systemPrompt,
          ticket: input.ticket,
          dependencies: input.repo ? [] : await dependencyViews(deps.store, input.dependencies),
          ...(input.repo
            ? { repo: await repoPromptView(deps.store, input.repo, input.ticket, input.own, input.dependencies) }
            : {}),
          ...(input.feedback !== undefined ? { feedback: input.feedback } : {}),
          attempt: input.attempt,
          tools: [...input.settings.tools, ...(input.mcpTools ?? []).map((t) => t.function.name)],
          maxTurns,
          maxToolCalls: input.settings.maxToolCallsPerTurn ?? DEFAULT_MAX_TOOL_CALLS_PER_TURN,
        });
        messages = [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ];
      }
      for (const r of input.toolResults)
        messages.push({
          role: 'tool',
          tool_call_id: r.toolCallId,
          content: r.contentRef ? (await deps.store.read(r.contentRef)).toString('utf8') : r.content,
        });
      answersInCallOrder(messages);
      if (input.problem)
        messages.push({
          role: 'user',
          content: `Your final answer was not valid: ${input.problem}\nAnswer again with JSON that matches the schema exactly.`,
        });
      if (input.turn >= maxTurns) messages.push({ role: 'user', content: lastTurnNotice(input.turn, maxTurns) });
      const ctx = currentContext();
      const label = `${role.name} ${input.ticket.id} turn ${input.turn}`;
      // Calls of earlier attempts (heartbeat details) stay on the bill, whatever happens next.
      const calls = earlierCalls(ctx);
      const observe = llmCallObserver();
      const model = role.model ?? deps.workerModel(role.name);
      const meta = {
        kind: 'work' as const,
        role: role.name,
        ticketId: input.ticket.id,
        attempt: ctx?.info.attempt ?? 1,
        ...(ctx ? { taskQueue: ctx.info.taskQueue } : {}),
        workerIdentity: WORKER_IDENTITY,
      };
      // A turn the previous attempt lost with its worker (killed mid-stream) is booked once, here.
      const lost = lostStreamingCall(calls, meta, model, (n) =>
        agentLlm.lostCallBill
          ? agentLlm.lostCallBill(model, messages, n)
          : { promptTokens: 0, cachedTokens: 0, completionTokens: n, usd: 0, estimated: true },
      );
      if (lost) {
        calls.push(lost);
        observe(lost);
      }
      const progress = progressTracker(calls);
      const res = await withActivityContext(
        (signal) => {
          checkPermits(calls.length, input, label);
          return agentLlm.turn({
            model,
            messages,
            tools: input.turn >= maxTurns ? [] : [...toolSpecs(input.settings.tools), ...(input.mcpTools ?? [])],
            schema: WorkResult,
            schemaName: SCHEMA_NAMES.work,
            label,
            ...(role.temperature !== undefined ? { temperature: role.temperature } : {}),
            ...(role.maxTokens !== undefined ? { maxTokens: role.maxTokens } : {}),
            ...(signal ? { signal } : {}),
            meta,
            onCall: (r) => {
              calls.push(r);
              observe(r);
              progress.settled();
              ctx?.heartbeat(progress.details());
            },
            onProgress: progress.onProgress,
          });
        },
        () => progress.details(),
      ).catch((err: unknown) => {
        throw failureWithCalls(err, calls);
      });
      if (!calls.includes(res.record)) calls.push(res.record);
      observe(res.record); // a stand-in model (tests) may not report its call through onCall
      const vetted = await vetTurnCalls(res.toolCalls, {
        ticketId: input.ticket.id,
        role: role.name,
        turn: input.turn,
        attempt: input.attempt,
        activityAttempt: ctx?.info.attempt ?? 1,
        settings: input.settings,
        offered: [...toolSpecs(input.settings.tools), ...(input.mcpTools ?? [])],
        store: deps.store,
      });
      messages.push(storedAssistant(res.message, vetted.stored), ...vetted.answers);
      const conversation = await deps.store.put({
        path: `agent/${input.ticket.id}-attempt-${input.attempt}-turn-${input.turn}.json`,
        content: JSON.stringify(messages),
      });
      let final: AgentTurnOutput['final'];
      if (res.final) {
        const { kept, dropped } = await answerFiles(deps.store, input.repo, res.final.files);
        const produced = await Promise.all(kept.map((f) => deps.store.put(f)));
        final = { summary: `${res.final.summary}${droppedNote(dropped)}`, artifacts: mergeFiles(input.own, produced) };
      }
      return {
        conversation,
        toolCalls: vetted.accepted,
        ...(vetted.records.length > 0 ? { refusedCalls: vetted.records } : {}),
        ...(final ? { final } : {}),
        ...(res.problem ? { problem: cut(res.problem, MAX_PROBLEM_CHARS) } : {}),
        usage: calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage()),
        model: res.model,
        calls,
      };
    },

    async agentTool(input: AgentToolInput): Promise<AgentToolOutput> {
      const ctx = currentContext();
      const started = new Date();
      const rawArgs = input.call.argumentsRef
        ? (await deps.store.read(input.call.argumentsRef)).toString('utf8')
        : input.call.arguments;
      let outcome: ToolOutcome;
      const shortfall = approvalShortfall(deps, input.role, input.settings, input.call.name);
      if (input.rejected !== undefined) {
        outcome = toolError(`a person rejected this call: ${input.rejected || 'no reason given'}`);
      } else if (shortfall) {
        outcome = toolError(shortfall);
      } else if (mcpToolOf(input.call.name, input.settings.mcp)) {
        outcome = await withActivityContext(() => mcpCall(deps, input, rawArgs));
      } else {
        const tool = BuiltInTool.safeParse(input.call.name);
        outcome = !tool.success
          ? invalidCall(`unknown tool "${input.call.name}"; available: ${input.settings.tools.join(', ')}`)
          : await withActivityContext((signal) =>
              runBuiltInTool(
                {
                  store: deps.store,
                  files: { dependencies: input.dependencies, own: input.own },
                  settings: {
                    ...input.settings,
                    programs: workerPrograms(deps, input.settings, input.repo !== undefined),
                    limits: workerLimits(deps, input.role, input.settings),
                  },
                  hide: deps.sandboxHide ?? [],
                  ...(input.repo ? { repo: repoOpener(deps, input.repo) } : {}),
                  ...(signal ? { signal } : {}),
                },
                tool.data,
                rawArgs,
              ),
            );
      }
      return {
        result: await resultMessage(deps.store, input, outcome.content),
        written: outcome.written,
        record: {
          tool: input.call.name,
          role: input.role,
          ticketId: input.ticketId,
          turn: input.turn,
          summary: toolCallLabel(input.call),
          startedAt: started.toISOString(),
          durationMs: Date.now() - started.getTime(),
          status: input.rejected !== undefined ? 'rejected' : outcome.isError ? 'error' : 'ok',
          ...(input.rejected === undefined && outcome.notRun ? { notRun: outcome.notRun } : {}),
          ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}),
          bytes: outcome.bytes,
          attempt: ctx?.info.attempt ?? 1,
        },
      };
    },
  };
}
