/**
 * Readers for the prompt formats built in `src/activities/roles/prompts.ts`. The simulated
 * model answers from what the prompt says, as a real model would, so these must follow the
 * exact headings used there.
 */

/** A file shown inside a prompt (`#### File: path` plus a fenced block). */
export interface ShownFile {
  path: string;
  text: string;
  truncated: boolean;
}

/** A dependency's output as shown to a worker. */
export interface ShownDependency {
  ticketId: string;
  role: string;
  title: string;
  summary: string;
  files: ShownFile[];
}

/** What a worker prompt tells about its ticket. */
export interface WorkerPromptInfo {
  ticketId: string;
  title: string;
  spec: string;
  criteria: string[];
  dependencies: ShownDependency[];
  feedback?: string;
}

/** What a review prompt tells about the ticket and the result under review. */
export interface ReviewPromptInfo {
  ticketId: string;
  role: string;
  title: string;
  spec: string;
  criteria: string[];
  attempt: number;
  summary: string;
  files: ShownFile[];
}

/** One ticket line of the final-report prompt. */
export interface FinalTicketLine {
  id: string;
  role: string;
  title: string;
  state: string;
  summary?: string;
}

/** Text between `start` and the first of `ends` after it (or the end of the text). */
export function between(text: string, start: string, ends: readonly string[]): string | undefined {
  const i = text.indexOf(start);
  if (i < 0) return undefined;
  const from = i + start.length;
  let to = text.length;
  for (const end of ends) {
    const j = text.indexOf(end, from);
    if (j >= 0 && j < to) to = j;
  }
  return text.slice(from, to);
}

/** The bullet items (`- item`) of a block of text. */
export function bulletItems(block: string | undefined): string[] {
  if (!block) return [];
  return block
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2).trim())
    .filter((l) => l.length > 0);
}

/** The ticket id a prompt is about, from `# Ticket T3:` or `# Review of ticket T3`. */
export function ticketIdOf(user: string): string | undefined {
  const m = /^# (?:Ticket|Review of ticket) (T\d{1,3})\b/m.exec(user);
  return m?.[1];
}

/** Files shown in a block of prompt text, in order. */
export function shownFiles(block: string): ShownFile[] {
  const files: ShownFile[] = [];
  const chunks = block.split(/^(?=#### File: |### T\d)/m);
  for (const chunk of chunks) {
    const head = /^#### File: (\S+)( \(first \d+ of \d+ bytes\))?\n(`{3,})\n/.exec(chunk);
    if (!head?.[1] || !head[3]) continue;
    const rest = chunk.slice(head[0].length);
    const close = rest.lastIndexOf(`\n${head[3]}`);
    files.push({ path: head[1], text: close >= 0 ? rest.slice(0, close) : rest, truncated: Boolean(head[2]) });
  }
  return files;
}

function dependencies(block: string | undefined): ShownDependency[] {
  if (!block) return [];
  const deps: ShownDependency[] = [];
  for (const chunk of block.split(/^(?=### T\d{1,3} \()/m)) {
    const head = /^### (T\d{1,3}) \(([^)]*)\): (.*)$/m.exec(chunk);
    if (!head) continue;
    const summary = /^Summary: (.*)$/m.exec(chunk)?.[1] ?? '';
    deps.push({
      ticketId: head[1] ?? '',
      role: head[2] ?? '',
      title: head[3] ?? '',
      summary,
      files: shownFiles(chunk),
    });
  }
  return deps;
}

const CRITERIA = '\n\n## Acceptance criteria\n';

/** Reads a worker prompt (see `buildWorkerPrompt`). */
export function parseWorkerPrompt(user: string): WorkerPromptInfo {
  const head = /^# Ticket (T\d{1,3}): (.*)$/m.exec(user);
  const spec = between(user, '## Specification\n', [CRITERIA]) ?? '';
  const criteriaBlock = between(user, CRITERIA, ['\n\n## ']);
  const deps = between(user, '## Inputs from the tickets this one depends on\n', [
    '\n\n## Reviewer feedback on your previous attempt',
    '\n\n## Answer\n',
  ]);
  const fbStart = /^## Reviewer feedback on your previous attempt[^\n]*\n/m.exec(user);
  let feedback: string | undefined;
  if (fbStart) {
    const rest = user.slice(fbStart.index + fbStart[0].length);
    const end = rest.lastIndexOf('\n\n## Answer\n');
    feedback = (end >= 0 ? rest.slice(0, end) : rest).trim();
  }
  return {
    ticketId: head?.[1] ?? 'T0',
    title: head?.[2]?.trim() ?? '',
    spec: spec.trim(),
    criteria: bulletItems(criteriaBlock),
    dependencies: dependencies(deps),
    ...(feedback !== undefined ? { feedback } : {}),
  };
}

/** Reads a review prompt (see `buildReviewPrompt`). */
export function parseReviewPrompt(user: string): ReviewPromptInfo {
  const head = /^# Review of ticket (T\d{1,3}) \(([^)]*)\): (.*)$/m.exec(user);
  const spec = between(user, '## Specification\n', [CRITERIA]) ?? '';
  const criteriaBlock = between(user, CRITERIA, ['\n\n## ']);
  const attemptMatch = /^## Result of attempt (\d+)\n/m.exec(user);
  let result = '';
  if (attemptMatch) {
    result = user.slice(attemptMatch.index + attemptMatch[0].length);
    const end = result.lastIndexOf('\n\n## Decide\n');
    if (end >= 0) result = result.slice(0, end);
  }
  const summary = /^Summary: (.*)$/m.exec(result)?.[1] ?? '';
  return {
    ticketId: head?.[1] ?? 'T0',
    role: head?.[2] ?? '',
    title: head?.[3]?.trim() ?? '',
    spec: spec.trim(),
    criteria: bulletItems(criteriaBlock),
    attempt: attemptMatch ? Number(attemptMatch[1]) : 1,
    summary,
    files: shownFiles(result),
  };
}

/** The goal of a plan or final-report prompt. */
export function goalOf(user: string): string {
  // A repo run's plan prompt shows the repository map after the goal: it is not part of the goal.
  const ends = ['\n\n# Roles you can assign\n', '\n\n# Plan\n', '\n\n# Repository', '\n# Repository map: '];
  return (between(user, '# Goal\n', ends) ?? user).trim();
}

/** Role names listed under `# Roles you can assign` (`- name: description`). */
export function rolesListed(user: string): string[] {
  const block = between(user, '# Roles you can assign\n', ['\n\n# ']);
  return bulletItems(block)
    .map((item) => /^([a-z][a-z0-9-]{0,31}):/.exec(item)?.[1])
    .filter((r): r is string => Boolean(r));
}

/** The `Use at most N tickets.` bound of a plan prompt. */
export function maxTicketsOf(user: string): number | undefined {
  const m = /Use at most (\d+) tickets/.exec(user);
  return m ? Number(m[1]) : undefined;
}

// The longer label first: a ticket accepted over failing checks (shared/outcomes.ts) is not `accepted`.
const STATES = 'pending|running|accepted over failing checks|accepted|escalated|failed|blocked|skipped';

/** Reads the final-report prompt (see `buildFinalPrompt`). */
export function parseFinalPrompt(user: string): {
  goal: string;
  planSummary: string;
  tickets: FinalTicketLine[];
  files: string[];
} {
  const lineRe = new RegExp(`^(T\\d{1,3}) \\[([^\\]]+)\\] (.+?): (${STATES})(?: — ([\\s\\S]*))?$`);
  const tickets: FinalTicketLine[] = [];
  for (const item of bulletItems(between(user, '# Tickets\n', ['\n\n# Files produced\n']))) {
    const m = lineRe.exec(item);
    if (!m) continue;
    tickets.push({
      id: m[1] ?? '',
      role: m[2] ?? '',
      title: m[3] ?? '',
      state: m[4] ?? '',
      ...(m[5] ? { summary: m[5] } : {}),
    });
  }
  return {
    goal: goalOf(user),
    planSummary: (between(user, '# Plan\n', ['\n\n# Tickets\n']) ?? '').trim(),
    tickets,
    files: bulletItems(
      between(user, '# Files produced\n', ['\n\n# Report\n', '\n\n# Feedback on your previous report']),
    ),
  };
}

/** The `## ` headings of a prompt outside fenced blocks, in order (without the `## `). */
export function sectionHeadings(text: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const l of text.split('\n')) {
    const f = /^(`{3,}|~{3,})/.exec(l)?.[1];
    if (fence === undefined && f) fence = f;
    else if (fence !== undefined && l.trim() === fence) fence = undefined;
    else if (fence === undefined && l.startsWith('## ')) out.push(l.slice(3).trim());
  }
  return out;
}
