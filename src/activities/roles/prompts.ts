/**
 * Pure prompt builders. Context hygiene lives here: a worker prompt is built only from its
 * ticket, the outputs of its declared dependencies and review feedback — the function has no
 * parameter through which the goal or another ticket could leak in.
 *
 * Every prompt is ordered stable-first (issue 23): the system message holds what is the same for
 * every call of its kind (the role and its standing instructions), byte for byte, and the user
 * message holds the ticket-specific part, with what changes between attempts (feedback, revisions
 * left, a previous plan's problems) last. Providers bill a repeated prompt prefix at a fraction of
 * the price (OpenAI from 1,024 tokens), so nothing per-call may come before the stable part.
 */
import type { Ticket } from '../../shared/schemas';
import type { RoleInfo } from '../../shared/types';

/** A chat prompt: the system message and one user message. */
export interface Prompt {
  system: string;
  user: string;
}

/** A file's text as shown to another agent, cut to a bounded excerpt. */
export interface FileExcerpt {
  path: string;
  bytes: number;
  text: string;
  truncated: boolean;
}

/** A dependency's output as a worker sees it. */
export interface DependencyView {
  ticketId: string;
  role: string;
  title: string;
  summary: string;
  files: FileExcerpt[];
}

/** A file of a repo ticket's tree as its prompt shows it (bounded; `exists` false for a new file). */
export interface RepoFileView {
  path: string;
  exists: boolean;
  text: string;
  bytes: number;
  truncated: boolean;
  /** Why the path cannot be shown (e.g. a `.git` path or a symbolic link), when it cannot. */
  refused?: string;
}

/** What a repo ticket's worker sees of its repository: named files and its dependencies' diffs. */
export interface RepoPromptView {
  name: string;
  testCommand?: string;
  changes: RepoFileView[];
  reads: RepoFileView[];
  dependencies: { ticketId: string; title: string; diff: string; truncated: boolean }[];
}

/** What a repo ticket's review sees instead of whole files: its diff and its repo test result. */
export interface RepoReviewView {
  name: string;
  diff: string;
  truncated: boolean;
  tests?: { command: string; passed: boolean; exitCode?: number; stopped?: string; output: string };
}

function fenceOf(text: string, lang = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

function repoFile(f: RepoFileView): string {
  if (f.refused) return `### ${f.path} (not shown: ${f.refused})`;
  if (!f.exists) return `### ${f.path} (new file)\n${fenceOf('')}`;
  const cut = f.truncated
    ? `\n[cut: the first ${Buffer.byteLength(f.text, 'utf8')} of ${f.bytes} bytes are shown]`
    : '';
  return `### ${f.path}\n${fenceOf(f.text)}${cut}`;
}

/** The repo sections of a worker prompt (issue 20; the simulator parses them: keep the format). */
function repoSections(r: RepoPromptView): string[] {
  const parts = [
    `## Repository\n${r.name}${r.testCommand ? `; test command: \`${r.testCommand}\`` : '; no test command'}`,
    `## Files you may change\n${r.changes.map(repoFile).join('\n\n') || '(none named: add new files only where the specification says)'}`,
    `## Files to read\n${r.reads.map(repoFile).join('\n\n') || '(none)'}`,
  ];
  if (r.dependencies.length > 0)
    parts.push(
      `## Changes of the tickets this one depends on\n${r.dependencies
        .map((d) => `### ${d.ticketId} ${d.title}\n${fenceOf(d.diff, 'diff')}${d.truncated ? '\n[diff cut]' : ''}`)
        .join('\n\n')}`,
    );
  return parts;
}

function bullets(items: readonly string[]): string {
  return items.map((i) => `- ${i}`).join('\n');
}

/**
 * A file in a fenced block. The fence is longer than any run of backticks in the file, so a
 * Markdown file with its own code blocks cannot end the block early.
 */
function fence(file: FileExcerpt): string {
  const note = file.truncated ? ` (first ${Buffer.byteLength(file.text, 'utf8')} of ${file.bytes} bytes)` : '';
  const longest = Math.max(0, ...[...file.text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(Math.max(3, longest + 1));
  return `#### File: ${file.path}${note}\n${ticks}\n${file.text}\n${ticks}`;
}

function ticketBlock(ticket: Ticket): string {
  return [`## Specification\n${ticket.spec}`, `## Acceptance criteria\n${bullets(ticket.acceptanceCriteria)}`].join(
    '\n\n',
  );
}

/** The Boss's planning prompt; `problems` are validation errors of its previous plan. */
export function buildPlanPrompt(args: {
  bossSystemPrompt: string;
  goal: string;
  roles: readonly RoleInfo[];
  maxTickets: number;
  problems?: readonly string[];
  /** A repo run's section (its map and rules): before the problems, so a re-plan repeats it as a prefix. */
  repoSection?: string;
}): Prompt {
  const parts = [
    `# Goal\n${args.goal}`,
    `# Roles you can assign\n${bullets(args.roles.map((r) => `${r.name}: ${r.description}`))}`,
    `# Rules\n${bullets([
      'Break the goal into atomic tickets; each ticket is done by exactly one role.',
      'Ticket ids are T1, T2, ... in order; a ticket may depend only on tickets it needs the output of.',
      'The worker sees only its ticket and the outputs of its dependencies, never the goal: put every detail it needs into the spec.',
      'Give each ticket concrete, checkable acceptance criteria.',
      `Use at most ${args.maxTickets} tickets.`,
    ])}`,
  ];
  if (args.repoSection !== undefined) parts.push(args.repoSection);
  if (args.problems && args.problems.length > 0) {
    parts.push(`# Problems with your previous plan (fix every one)\n${bullets(args.problems)}`);
  }
  return { system: `${args.bossSystemPrompt}\n\nTask: write the plan.`, user: parts.join('\n\n') };
}

/** How a single-call worker answers: part of its stable system message (one text per kind of ticket). */
export function workerAnswerRules(repo: boolean): string {
  return repo
    ? '## Answer\nReturn a short summary of what you did and the complete new content of every file you change or add (whole files, paths relative to the repository root; never a diff).'
    : '## Answer\nReturn a short summary of what you did and the complete content of every file you produce.';
}

/**
 * A worker's prompt: its role and how to answer (stable), then its ticket, its dependencies'
 * outputs and feedback (last). Nothing else.
 */
export function buildWorkerPrompt(args: {
  roleSystemPrompt: string;
  ticket: Ticket;
  dependencies: readonly DependencyView[];
  feedback?: string;
  attempt: number;
  /** Repo tickets: the repository's files this ticket names and its dependencies' diffs. */
  repo?: RepoPromptView;
}): Prompt {
  const { ticket } = args;
  const parts = [`# Ticket ${ticket.id}: ${ticket.title}`, ticketBlock(ticket)];
  if (args.repo) parts.push(...repoSections(args.repo));
  else if (args.dependencies.length > 0) {
    const deps = args.dependencies.map((d) =>
      [`### ${d.ticketId} (${d.role}): ${d.title}`, `Summary: ${d.summary}`, ...d.files.map(fence)].join('\n'),
    );
    parts.push(`## Inputs from the tickets this one depends on\n${deps.join('\n\n')}`);
  }
  if (args.feedback) {
    parts.push(`## Reviewer feedback on your previous attempt (attempt ${args.attempt - 1})\n${args.feedback}`);
  }
  return {
    system: `${args.roleSystemPrompt}\n\n${workerAnswerRules(args.repo !== undefined)}`,
    user: parts.join('\n\n'),
  };
}

/** The Boss's standing review instructions: the stable part of every review prompt (after its system prompt). */
export const REVIEW_TASK =
  'Task: review one ticket result. Accept when every acceptance criterion is met; otherwise ask for a revision with specific feedback.';

/**
 * The Boss's review prompt: one ticket and its result, nothing else. The system message is the
 * same for every ticket of every run with this Boss; the ticket, its result and the revisions
 * left follow in the user message.
 */
export function buildReviewPrompt(args: {
  bossSystemPrompt: string;
  ticket: Ticket;
  summary: string;
  files: readonly FileExcerpt[];
  attempt: number;
  revisionsLeft: number;
  /** The checks an agent ran (tool, target, outcome), so the review rests on what was executed. */
  checks?: readonly string[];
  /** The tickets it depends on, which a failing check may send back (`reopen`). */
  dependencies?: readonly { ticketId: string; role: string; title: string; files: readonly string[] }[];
  /** The failing check of a ticket testing this one, which re-opened it. */
  testFailure?: string;
  /** Repo tickets: the diff against the ticket's start and its repo test result, instead of whole files. */
  repo?: RepoReviewView;
}): Prompt {
  const { ticket } = args;
  const deps = args.dependencies ?? [];
  const result = args.repo
    ? `Summary: ${args.summary}\n\n### Diff against the start of the ticket (repository ${args.repo.name})\n${args.repo.diff.trim() ? fenceOf(args.repo.diff, 'diff') : '(no change)'}${args.repo.truncated ? '\n[diff cut]' : ''}`
    : `Summary: ${args.summary}\n\n${args.files.map(fence).join('\n\n') || '(no files)'}`;
  const t = args.repo?.tests;
  const parts = [
    `# Review of ticket ${ticket.id} (${ticket.role}): ${ticket.title}`,
    ticketBlock(ticket),
    `## Result of attempt ${args.attempt}\n${result}`,
    ...(t
      ? [
          `## The repository's tests on this result: ${t.passed ? 'PASSED' : 'FAILED'}\n$ ${t.command} (${t.stopped ? `stopped: ${t.stopped}` : `exit code ${t.exitCode ?? '?'}`})\n${fenceOf(t.output)}${t.passed ? '' : '\nDo not accept a result whose repository tests fail.'}`,
        ]
      : []),
    ...(args.checks && args.checks.length > 0
      ? [`## Checks the agent ran (oldest first; the last run of each counts)\n${bullets(args.checks)}`]
      : []),
    ...(args.testFailure
      ? [
          `## Test results that re-opened this ticket (a ticket testing its output failed; accept only when the result fixes this)\n${args.testFailure}`,
        ]
      : []),
    ...(deps.length > 0
      ? [
          `## Tickets this one depends on (their output was checked)\n${bullets(deps.map((d) => `${d.ticketId} (${d.role}): ${d.title} — files: ${d.files.join(', ') || 'none'}`))}`,
        ]
      : []),
    `## Decide\nRevisions left: ${args.revisionsLeft}.${deps.length > 0 ? " When a check failed because of the output of a ticket listed above (not because of this ticket's own work), set `reopen` to that ticket with the failing evidence as its feedback: it is sent back, then this ticket runs again on its new output. Otherwise leave `reopen` null." : ''}`,
  ];
  return { system: `${args.bossSystemPrompt}\n\n${REVIEW_TASK}`, user: parts.join('\n\n') };
}

/** The Boss's instructions for the final report: the stable part of its prompt (after its system prompt). */
export const FINAL_TASK =
  'Task: write the final report.\n\n# Report\nWrite a headline, a summary of what was delivered against the goal, and follow-ups for anything left open.';

/** The Boss's final report prompt: its instructions (stable), then the goal and what each ticket achieved. */
export function buildFinalPrompt(args: {
  bossSystemPrompt: string;
  goal: string;
  planSummary: string;
  tickets: readonly { id: string; role: string; title: string; state: string; summary?: string }[];
  files: readonly string[];
  feedback?: string;
}): Prompt {
  const rows = args.tickets.map(
    (t) => `- ${t.id} [${t.role}] ${t.title}: ${t.state}${t.summary ? ` — ${t.summary}` : ''}`,
  );
  const parts = [
    `# Goal\n${args.goal}`,
    `# Plan\n${args.planSummary}`,
    `# Tickets\n${rows.join('\n')}`,
    `# Files produced\n${args.files.length > 0 ? bullets(args.files) : '(none)'}`,
  ];
  if (args.feedback) parts.push(`# Feedback on your previous report (address it)\n${args.feedback}`);
  return { system: `${args.bossSystemPrompt}\n\n${FINAL_TASK}`, user: parts.join('\n\n') };
}
