/**
 * The Boss's activities: plan a goal, review one ticket result, write the final report. The
 * Boss never produces deliverables; it only decides.
 */
import { SCHEMA_NAMES } from '../../shared/constants';
import { FinalReport, planSchemaForRoles, Review, type Plan, type Ticket } from '../../shared/schemas';
import type { ArtifactRef, RoleInfo } from '../../shared/types';
import type { Usage } from '../../shared/usage';
import { excerptOf } from '../artifacts/excerpt';
import { withActivityContext } from '../context';
import type { ActivityDeps } from '../deps';
import { buildFinalPrompt, buildPlanPrompt, buildReviewPrompt } from './prompts';

/** Input of `planGoal`. */
export interface PlanGoalInput {
  runId: string;
  goal: string;
  roles: RoleInfo[];
  maxTickets: number;
  /** Validation errors of the previous plan, when re-planning. */
  problems?: string[];
  attempt: number;
}

/** Input of `reviewTicket`. */
export interface ReviewTicketInput {
  runId: string;
  ticket: Ticket;
  summary: string;
  artifacts: ArtifactRef[];
  attempt: number;
  revisionsLeft: number;
}

/** Input of `finalizeRun`. */
export interface FinalizeRunInput {
  runId: string;
  goal: string;
  planSummary: string;
  tickets: { id: string; role: string; title: string; state: string; summary?: string }[];
  files: string[];
}

/** Creates the Boss activities over the given dependencies. */
export function createBossActivities(deps: ActivityDeps) {
  return {
    async planGoal(input: PlanGoalInput): Promise<{ plan: Plan; usage: Usage; model: string }> {
      const prompt = buildPlanPrompt({
        bossSystemPrompt: deps.bossSystemPrompt,
        goal: input.goal,
        roles: input.roles,
        maxTickets: input.maxTickets,
        problems: input.problems,
      });
      const res = await withActivityContext((signal) =>
        deps.llm.call({
          model: deps.bossModel,
          prompt,
          schema: planSchemaForRoles(input.roles.map((r) => r.name)),
          schemaName: SCHEMA_NAMES.plan,
          label: `boss plan (attempt ${input.attempt})`,
          signal,
        }),
      );
      return { plan: res.data, usage: res.usage, model: res.model };
    },

    async reviewTicket(input: ReviewTicketInput): Promise<{ review: Review; usage: Usage; model: string }> {
      const files = await Promise.all(input.artifacts.map((a) => excerptOf(deps.store, a, deps.reviewExcerptChars)));
      const prompt = buildReviewPrompt({
        bossSystemPrompt: deps.bossSystemPrompt,
        ticket: input.ticket,
        summary: input.summary,
        files,
        attempt: input.attempt,
        revisionsLeft: input.revisionsLeft,
      });
      const res = await withActivityContext((signal) =>
        deps.llm.call({
          model: deps.bossModel,
          prompt,
          schema: Review,
          schemaName: SCHEMA_NAMES.review,
          label: `review ${input.ticket.id} attempt ${input.attempt}`,
          signal,
        }),
      );
      return { review: res.data, usage: res.usage, model: res.model };
    },

    async finalizeRun(input: FinalizeRunInput): Promise<{ report: FinalReport; usage: Usage; model: string }> {
      const prompt = buildFinalPrompt({ bossSystemPrompt: deps.bossSystemPrompt, ...input });
      const res = await withActivityContext((signal) =>
        deps.llm.call({
          model: deps.bossModel,
          prompt,
          schema: FinalReport,
          schemaName: SCHEMA_NAMES.final,
          label: 'boss final report',
          signal,
        }),
      );
      return { report: res.data, usage: res.usage, model: res.model };
    },
  };
}
