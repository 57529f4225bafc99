/**
 * The ticket workflow's side of an agent attempt: starts the attempt's agent loop as a child
 * (`<ticket workflow id>/agent-<attempt>`) and returns its result in the shape of a single-call
 * work result, plus tool calls and, when it ran out of turns or budget, the escalation.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { agentLoopWorkflowId } from '../shared/constants';
import type { TicketInput } from '../shared/types';
import type { Usage } from '../shared/usage';
import type { agentLoopWorkflow, AgentLoopOutput, AgentLoopState } from './agent-loop';

/** Runs one attempt of `input.ticket` as an agent loop (the role must have agent settings). */
export async function runAgentAttempt(args: {
  input: TicketInput;
  feedback: string | undefined;
  attempt: number;
  /** What the ticket spent before this attempt (for its own budget). */
  spent: Usage;
  /** Calls the run's permits allow this execution of the loop (absent: no limit). */
  callPermits?: number;
  /** The state of a loop that paused for permits, to resume. */
  state?: AgentLoopState;
}): Promise<AgentLoopOutput> {
  const { input, attempt } = args;
  const settings = input.role?.agent;
  if (!settings) throw new Error(`role ${input.ticket.role} has no agent settings`);
  // By its registered name: a value import would make every ticket child load the agent loop's modules.
  return executeChild<typeof agentLoopWorkflow>('agentLoopWorkflow', {
    workflowId: agentLoopWorkflowId(workflowInfo().workflowId, attempt),
    staticSummary: `[${input.ticket.role}] ${input.ticket.id} agent, attempt ${attempt}`,
    args: [
      {
        runId: input.runId,
        ticket: input.ticket,
        ...(input.role ? { role: input.role } : {}),
        settings,
        dependencies: input.dependencies,
        ...(args.feedback !== undefined ? { feedback: args.feedback } : {}),
        attempt,
        ...(input.budget ? { budget: input.budget, spentBefore: args.spent } : {}),
        ...(args.callPermits !== undefined ? { callPermits: args.callPermits } : {}),
        ...(args.state ? { state: args.state } : {}),
        // Repo runs: the tree the agent works on (every turn and tool call gets it).
        ...(input.repo ? { repo: input.repo } : {}),
      },
    ],
  });
}
