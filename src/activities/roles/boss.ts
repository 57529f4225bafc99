/**
 * The Boss's activities: plan a goal, review one ticket result, write the final report. The
 * Boss never produces deliverables; it only decides.
 */
import { SCHEMA_NAMES } from '../../shared/constants';
import { FinalReport, planSchemaForRoles, Review, type Plan, type Ticket } from '../../shared/schemas';
import { BOSS_ROLE } from '../../shared/roles';
import type { ArtifactRef, LlmCallRecord, RoleInfo } from '../../shared/types';
import type { Usage } from '../../shared/usage';
import { excerptOf } from '../artifacts/excerpt';
import { callLlm } from '../context';
import type { ActivityDeps } from '../deps';
import type { RepoTestResult, RepoWork } from '../../shared/repo';
import { repoReviewView } from '../repo/repo-view';
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
  /** HTTP calls the run's budget allows (absent: no limit); see workflows/budget.ts. */
  callPermits?: number;
  /** Repo runs: the repository's bounded map (RunInput.repo.map); the plan then names files. */
  repoMap?: string;
}

/** The plan prompt's part for a run on a repository: its map and how tickets name files. */
export function repoPlanSection(map: string): string {
  return [
    '# The repository you work on',
    'The workers change this existing git repository; each accepted ticket becomes one commit on a branch. You see its map, not its code.',
    map.trim(),
    '# Rules for repository tickets',
    '- Give every ticket `changes`: the repository files it may create or change, by their path from the repository root as the map shows them.',
    "- Give every ticket `reads`: the files its worker must read to do it (it sees those, the files it changes and its dependencies' diffs, nothing else).",
    '- Tickets that do not depend on each other run in parallel: keep their `changes` on disjoint files. When two tickets must change the same file, make one depend on the other.',
    '- Paths are relative (no leading `/`, no `..`) and never inside `.git`.',
    "- The repository's own tests run on every ticket's work: a ticket that changes behaviour changes or adds its tests too.",
  ].join('\n');
}

/** Input of `reviewTicket`. */
export interface ReviewTicketInput {
  runId: string;
  ticket: Ticket;
  summary: string;
  artifacts: ArtifactRef[];
  attempt: number;
  revisionsLeft: number;
  /** HTTP calls the run's budget permits allow (absent: no limit); see shared/permits.ts. */
  callPermits?: number;
  /** For an agent's result: the checks and commands it ran, with their outcomes (absent otherwise). */
  checks?: string[];
  /**
   * The tickets this one depends on (id, role, title, file paths), given when its checks ran, so
   * the Boss can name the one whose output made a check fail (`reopen` in the review).
   */
  dependencies?: ReviewDependency[];
  /** The failing check of a ticket testing this one that re-opened it (absent otherwise). */
  testFailure?: string;
  /** Repo tickets: the tree the ticket worked on and its repo test result; the review sees the diff. */
  repo?: { work: RepoWork; tests?: RepoTestResult };
}

/** A dependency of a reviewed ticket as the review prompt names it (no contents: they are not under review). */
export interface ReviewDependency {
  ticketId: string;
  role: string;
  title: string;
  files: string[];
}

/** Input of `finalizeRun`. */
export interface FinalizeRunInput {
  runId: string;
  goal: string;
  planSummary: string;
  tickets: { id: string; role: string; title: string; state: string; summary?: string }[];
  files: string[];
  /** A person's reason for rejecting the previous report, when revising it. */
  feedback?: string;
  /** HTTP calls the run's budget allows (absent: no limit); see workflows/budget.ts. */
  callPermits?: number;
}

/** What every Boss activity returns besides its answer: spending and the calls behind it. */
export interface BossSpend {
  usage: Usage;
  model: string;
  calls: LlmCallRecord[];
}

/** Creates the Boss activities over the given dependencies. */
export function createBossActivities(deps: ActivityDeps) {
  const settings = {
    model: deps.bossModel,
    ...(deps.bossTemperature !== undefined ? { temperature: deps.bossTemperature } : {}),
    ...(deps.bossMaxTokens !== undefined ? { maxTokens: deps.bossMaxTokens } : {}),
    ...(deps.bossOutputMode ? { outputMode: deps.bossOutputMode } : {}),
    ...(deps.bossReasoningEffort ? { reasoningEffort: deps.bossReasoningEffort } : {}),
  };
  const spend = (res: BossSpend): BossSpend => ({ usage: res.usage, model: res.model, calls: res.calls });
  return {
    async planGoal(input: PlanGoalInput): Promise<{ plan: Plan } & BossSpend> {
      const prompt = buildPlanPrompt({
        bossSystemPrompt: deps.bossSystemPrompt,
        goal: input.goal,
        roles: input.roles,
        maxTickets: input.maxTickets,
        problems: input.problems,
        ...(input.repoMap !== undefined ? { repoSection: repoPlanSection(input.repoMap) } : {}),
      });
      const res = await callLlm(
        deps.llm,
        {
          ...settings,
          prompt,
          schema: planSchemaForRoles(
            input.roles.map((r) => r.name),
            { repo: input.repoMap !== undefined },
          ),
          schemaName: SCHEMA_NAMES.plan,
          label: `boss plan (attempt ${input.attempt})`,
        },
        { kind: 'plan', role: BOSS_ROLE, callPermits: input.callPermits },
        0, // the workflow re-plans (telling the Boss what was wrong), bounded by --max-replans
      );
      return { plan: res.data, ...spend(res) };
    },

    async reviewTicket(input: ReviewTicketInput): Promise<{ review: Review } & BossSpend> {
      const files = input.repo
        ? []
        : await Promise.all(input.artifacts.map((a) => excerptOf(deps.store, a, deps.reviewExcerptChars)));
      const prompt = buildReviewPrompt({
        bossSystemPrompt: deps.bossSystemPrompt,
        ticket: input.ticket,
        summary: input.summary,
        files,
        attempt: input.attempt,
        revisionsLeft: input.revisionsLeft,
        ...(input.checks ? { checks: input.checks } : {}),
        ...(input.dependencies ? { dependencies: input.dependencies } : {}),
        ...(input.testFailure ? { testFailure: input.testFailure } : {}),
        ...(input.repo
          ? { repo: await repoReviewView(deps.store, input.repo.work, input.artifacts, input.repo.tests) }
          : {}),
      });
      const res = await callLlm(
        deps.llm,
        {
          ...settings,
          prompt,
          schema: Review,
          schemaName: SCHEMA_NAMES.review,
          label: `review ${input.ticket.id} attempt ${input.attempt}`,
        },
        { kind: 'review', role: BOSS_ROLE, ticketId: input.ticket.id, callPermits: input.callPermits },
        deps.contentRetries,
      );
      return { review: res.data, ...spend(res) };
    },

    async finalizeRun(input: FinalizeRunInput): Promise<{ report: FinalReport } & BossSpend> {
      const prompt = buildFinalPrompt({ bossSystemPrompt: deps.bossSystemPrompt, ...input });
      const res = await callLlm(
        deps.llm,
        { ...settings, prompt, schema: FinalReport, schemaName: SCHEMA_NAMES.final, label: 'boss final report' },
        { kind: 'final', role: BOSS_ROLE, callPermits: input.callPermits },
        deps.contentRetries,
      );
      return { report: res.data, ...spend(res) };
    },
  };
}
