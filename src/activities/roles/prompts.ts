/**
 * Pure prompt builders. Context hygiene lives here: a worker prompt is built only from its
 * ticket, the outputs of its declared dependencies and review feedback — the function has no
 * parameter through which the goal or another ticket could leak in.
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
  if (args.problems && args.problems.length > 0) {
    parts.push(`# Problems with your previous plan (fix every one)\n${bullets(args.problems)}`);
  }
  return { system: `${args.bossSystemPrompt}\n\nTask: write the plan.`, user: parts.join('\n\n') };
}

/** A worker's prompt: its role, its ticket, its dependencies' outputs and feedback. Nothing else. */
export function buildWorkerPrompt(args: {
  roleSystemPrompt: string;
  ticket: Ticket;
  dependencies: readonly DependencyView[];
  feedback?: string;
  attempt: number;
}): Prompt {
  const { ticket } = args;
  const parts = [`# Ticket ${ticket.id}: ${ticket.title}`, ticketBlock(ticket)];
  if (args.dependencies.length > 0) {
    const deps = args.dependencies.map((d) =>
      [`### ${d.ticketId} (${d.role}): ${d.title}`, `Summary: ${d.summary}`, ...d.files.map(fence)].join('\n'),
    );
    parts.push(`## Inputs from the tickets this one depends on\n${deps.join('\n\n')}`);
  }
  if (args.feedback) {
    parts.push(`## Reviewer feedback on your previous attempt (attempt ${args.attempt - 1})\n${args.feedback}`);
  }
  parts.push('## Answer\nReturn a short summary of what you did and the complete content of every file you produce.');
  return { system: args.roleSystemPrompt, user: parts.join('\n\n') };
}

/** The Boss's review prompt: one ticket and its result, nothing else. */
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
}): Prompt {
  const { ticket } = args;
  const deps = args.dependencies ?? [];
  const parts = [
    `# Review of ticket ${ticket.id} (${ticket.role}): ${ticket.title}`,
    ticketBlock(ticket),
    `## Result of attempt ${args.attempt}\nSummary: ${args.summary}\n\n${args.files.map(fence).join('\n\n') || '(no files)'}`,
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
    `## Decide\nAccept when every acceptance criterion is met; otherwise ask for a revision with specific feedback. Revisions left: ${args.revisionsLeft}.${deps.length > 0 ? " When a check failed because of the output of a ticket listed above (not because of this ticket's own work), set `reopen` to that ticket with the failing evidence as its feedback: it is sent back, then this ticket runs again on its new output. Otherwise leave `reopen` null." : ''}`,
  ];
  return { system: `${args.bossSystemPrompt}\n\nTask: review one ticket result.`, user: parts.join('\n\n') };
}

/** The Boss's final report prompt: the goal and what each ticket achieved. */
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
    '# Report\nWrite a headline, a summary of what was delivered against the goal, and follow-ups for anything left open.',
  ];
  if (args.feedback) parts.push(`# Feedback on your previous report (address it)\n${args.feedback}`);
  return { system: `${args.bossSystemPrompt}\n\nTask: write the final report.`, user: parts.join('\n\n') };
}
