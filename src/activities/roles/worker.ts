/**
 * The worker activity: one role executes one ticket. Its prompt is built only from the ticket,
 * its dependencies' outputs and feedback; produced files go to the artifact store and only
 * their references go back to the workflow.
 */
import { ApplicationFailure } from '@temporalio/common';
import { SCHEMA_NAMES } from '../../shared/constants';
import { FailureType } from '../../shared/errors';
import { WorkResult, type Ticket } from '../../shared/schemas';
import type { ArtifactRef, LlmCallRecord, TicketOutput } from '../../shared/types';
import type { RepoWork } from '../../shared/repo';
import type { Usage } from '../../shared/usage';
import { excerptOf } from '../artifacts/excerpt';
import type { ArtifactStore } from '../artifacts/store';
import type { RoleDefinition } from '../../shared/roles';
import { callLlm } from '../context';
import type { ActivityDeps } from '../deps';
import { repoPromptView } from '../repo/repo-view';
import { answerFiles, droppedNote } from '../repo/tree';
import { buildWorkerPrompt, type DependencyView } from './prompts';

/** Input of `performTicket`. */
export interface PerformTicketInput {
  runId: string;
  ticket: Ticket;
  dependencies: TicketOutput[];
  feedback?: string;
  attempt: number;
  /** HTTP calls the run's budget permits allow (absent: no limit); see shared/permits.ts. */
  callPermits?: number;
  /** Repo runs: the tree the ticket works on (its files are laid over it). */
  repo?: RepoWork;
}

/** Output of `performTicket`: a summary and references to stored files. */
export interface PerformTicketOutput {
  summary: string;
  artifacts: ArtifactRef[];
  usage: Usage;
  model: string;
  /** The LLM calls behind this result, earlier failed attempts and repairs included. */
  calls: LlmCallRecord[];
}

/** The dependencies' outputs as a worker sees them: summaries and bounded file excerpts. */
export function dependencyViews(store: ArtifactStore, outputs: readonly TicketOutput[]): Promise<DependencyView[]> {
  return Promise.all(
    outputs.map(async (d) => ({
      ticketId: d.ticketId,
      role: d.role,
      title: d.title,
      summary: d.summary,
      files: await Promise.all(d.artifacts.map((a) => excerptOf(store, a))),
    })),
  );
}

/** The role definition of a ticket on this worker; a clear non-retryable failure when it has none. */
export function workerRole(deps: ActivityDeps, ticket: Ticket): RoleDefinition {
  const role = deps.roles.find((r) => r.name === ticket.role);
  if (role) return role;
  throw ApplicationFailure.create({
    type: FailureType.BadInput,
    message: `ticket ${ticket.id} needs role "${ticket.role}", which this worker does not have (roles: ${deps.roles.map((r) => r.name).join(', ')})`,
    nonRetryable: true,
  });
}

/** Creates the worker activities over the given dependencies. */
export function createWorkerActivities(deps: ActivityDeps) {
  return {
    async performTicket(input: PerformTicketInput): Promise<PerformTicketOutput> {
      const role = workerRole(deps, input.ticket);
      const dependencies = input.repo ? [] : await dependencyViews(deps.store, input.dependencies);
      const prompt = buildWorkerPrompt({
        roleSystemPrompt: role.systemPrompt,
        ticket: input.ticket,
        dependencies,
        feedback: input.feedback,
        attempt: input.attempt,
        ...(input.repo
          ? { repo: await repoPromptView(deps.store, input.repo, input.ticket, [], input.dependencies) }
          : {}),
      });
      const res = await callLlm(
        deps.llm,
        {
          model: role.model ?? deps.workerModel(role.name),
          ...(role.temperature !== undefined ? { temperature: role.temperature } : {}),
          ...(role.maxTokens !== undefined ? { maxTokens: role.maxTokens } : {}),
          ...(role.outputMode ? { outputMode: role.outputMode } : {}),
          ...(role.reasoningEffort ? { reasoningEffort: role.reasoningEffort } : {}),
          prompt,
          schema: WorkResult,
          schemaName: SCHEMA_NAMES.work,
          label: `${role.name} ${input.ticket.id} attempt ${input.attempt}`,
        },
        { kind: 'work', role: role.name, ticketId: input.ticket.id, callPermits: input.callPermits },
        deps.contentRetries,
      );
      // A repo ticket's answer file over a folder, link or submodule of its tree is left out, said in the summary.
      const { kept, dropped } = await answerFiles(deps.store, input.repo, res.data.files);
      const artifacts = await Promise.all(kept.map((f) => deps.store.put(f)));
      return {
        summary: `${res.data.summary}${droppedNote(dropped)}`,
        artifacts,
        usage: res.usage,
        model: res.model,
        calls: res.calls,
      };
    },
  };
}
