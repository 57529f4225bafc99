/**
 * Zod schemas shared by activities (to validate LLM output) and the client (to validate
 * input). Each schema constant and its inferred type share one name.
 */
import { z } from 'zod';
import { MAX_GOAL_CHARS } from './constants';
import { CONTROL_CHARS } from './control-chars';
import { FILE_PATH_PATTERN, FILE_PATH_RULE, filePathClashes, MAX_FILE_PATH_CHARS } from './file-path';

/** Ticket ids are short and stable so that child ids (`<runId>/<ticketId>`) stay readable. */
export const TicketId = z.string().regex(/^T\d{1,3}$/, 'ticket ids look like T1, T2, ... T999');
export type TicketId = z.infer<typeof TicketId>;

/** A role name: lower-case so it can name a task queue and a CLI flag. */
export const RoleName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'role names are lower-case words like "coder"');
export type RoleName = z.infer<typeof RoleName>;

/** A unit of work for exactly one worker role; its spec is all the worker will see. */
export const Ticket = z.object({
  id: TicketId,
  role: RoleName,
  title: z.string().min(1).max(200),
  spec: z.string().min(1).max(4000),
  acceptanceCriteria: z.array(z.string().min(1).max(500)).min(1).max(12),
  dependsOn: z.array(TicketId).max(50),
  /** Repo runs: repository paths the ticket may change (the Boss keeps parallel tickets disjoint). */
  changes: z.array(z.string().min(1).max(MAX_FILE_PATH_CHARS)).max(30).optional(),
  /** Repo runs: repository paths the ticket's worker needs to read (shown to it with its ticket). */
  reads: z.array(z.string().min(1).max(MAX_FILE_PATH_CHARS)).max(30).optional(),
});
export type Ticket = z.infer<typeof Ticket>;

/** The Boss's plan for a goal. */
export const Plan = z.object({
  summary: z.string().min(1).max(2000),
  tickets: z.array(Ticket).min(1).max(100),
});
export type Plan = z.infer<typeof Plan>;

/**
 * The plan schema the Boss is asked to fill: the role field is an enum of the configured roles,
 * so the model cannot invent a role nobody can execute.
 */
export function planSchemaForRoles(roles: readonly string[], opts: { repo?: boolean } = {}) {
  if (roles.length === 0) throw new Error('at least one worker role must be configured');
  const role = z.enum(roles as [string, ...string[]]);
  // Runs without a repository are not asked about repository files (their wire schema is unchanged).
  if (!opts.repo)
    return Plan.extend({
      tickets: z
        .array(Ticket.omit({ changes: true, reads: true }).extend({ role }))
        .min(1)
        .max(100),
    });
  const paths = (what: string) =>
    z
      .array(z.string().min(1).max(MAX_FILE_PATH_CHARS))
      .max(30)
      .optional()
      .describe(
        `${what}, relative to the repository root as the repository map shows them (at most 30; null when none)`,
      );
  return Plan.extend({
    tickets: z
      .array(
        Ticket.extend({
          role,
          changes: paths(
            'Repository files this ticket may create or change; tickets that run in parallel must not share one',
          ),
          reads: paths('Repository files the worker must read to do this ticket (it sees no others)'),
        }),
      )
      .min(1)
      .max(100),
  });
}

/** A file a worker produced. */
export const ProducedFile = z.object({
  path: z.string().min(1).max(MAX_FILE_PATH_CHARS).regex(new RegExp(FILE_PATH_PATTERN), FILE_PATH_RULE),
  content: z.string().max(200_000),
});
export type ProducedFile = z.infer<typeof ProducedFile>;

/** What a worker returns for its ticket. */
export const WorkResult = z.object({
  summary: z.string().min(1).max(2000),
  files: z
    .array(ProducedFile)
    .max(20)
    .superRefine((files, ctx) => {
      for (const message of filePathClashes(files.map((f) => f.path))) ctx.addIssue({ code: 'custom', message });
    }),
});
export type WorkResult = z.infer<typeof WorkResult>;

/** The Boss's review of one ticket result. */
export const Review = z.object({
  verdict: z.enum(['accept', 'revise']),
  feedback: z.string().max(2000),
  criteria: z.array(z.object({ criterion: z.string(), met: z.boolean() })),
  /**
   * Tickets this one depends on whose output made its checks fail (a Tester's failing test of the
   * Coder's page): the run re-opens them with this feedback, then runs this ticket again.
   */
  reopen: z
    .array(z.object({ ticketId: z.string().max(20), feedback: z.string().min(1).max(2000) }))
    .max(5)
    .nullish()
    .describe(
      'Only when a failing check was caused by the output of a ticket listed under "Tickets this one depends on": that ticket id and the failing evidence as its feedback. Otherwise null.',
    ),
});
export type Review = z.infer<typeof Review>;

/** The Boss's closing report on a run. */
export const FinalReport = z.object({
  headline: z.string().min(1).max(300),
  summary: z.string().min(1).max(4000),
  followUps: z.array(z.string()).max(20),
});
export type FinalReport = z.infer<typeof FinalReport>;

/** The goal text a run accepts; the message says what to do when it is refused. */
export const Goal = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, 'the goal is empty: describe what the agents should produce, e.g. "Build a landing page for a bakery"')
      .max(
        MAX_GOAL_CHARS,
        `the goal is longer than ${MAX_GOAL_CHARS} characters: put the details into tickets' specs or shorten it`,
      )
      .refine(
        (g) => !CONTROL_CHARS.test(g),
        'the goal contains control characters (such as ESC, BEL or CR); use plain text (newlines and tabs are fine)',
      ),
  );
