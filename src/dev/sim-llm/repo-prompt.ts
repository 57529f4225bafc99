/**
 * Reads the repo sections of a worker prompt (built by the worker's prompts for a repo ticket):
 * `## Repository` (`<name>; test command: \`<cmd>\``), `## Files you may change` and
 * `## Files to read` (each `### <path>` plus a fenced block, or `### <path> (new file)`), and
 * `## Changes of the tickets this one depends on` (`### <ticketId> <title>` plus a diff block).
 */

/** A file a repo ticket's prompt shows. */
export interface RepoShownFile {
  path: string;
  /** Its content as shown (absent for a new file). */
  text?: string;
  isNew: boolean;
  /** The prompt cut the content (it must not be written back as the whole file). */
  truncated: boolean;
}

/** What a repo ticket's worker prompt says. */
export interface RepoPromptInfo {
  ticketId: string;
  name: string;
  testCommand?: string;
  changes: RepoShownFile[];
  reads: RepoShownFile[];
  dependencies: { ticketId: string; title: string; diff: string }[];
  /** Feedback of a review or a conflict on the previous attempt. */
  feedback?: string;
}

/** Whether a prompt is a repo ticket's worker prompt. */
export function isRepoPrompt(user: string): boolean {
  return /^## Repository\n/m.test(user) && /^## Files you may change\b/m.test(user);
}

/** The text of the `## <heading>` section (to the next `## ` heading outside a fenced block). */
export function sectionOf(text: string, heading: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l === `## ${heading}` || l.startsWith(`## ${heading} `));
  if (at < 0) return undefined;
  const out: string[] = [];
  let fence: string | undefined;
  for (const l of lines.slice(at + 1)) {
    const f = /^(`{3,}|~{3,})/.exec(l)?.[1];
    if (fence === undefined && f) fence = f;
    else if (fence !== undefined && l.trim() === fence) fence = undefined;
    else if (fence === undefined && /^#{1,2} /.test(l)) break;
    out.push(l);
  }
  return out.join('\n');
}

/** The `### <head>` entries of a section, each with the text of its fenced block. */
function entries(block: string | undefined): { head: string; body?: string; cut?: boolean }[] {
  if (!block) return [];
  const lines = block.split('\n');
  const out: { head: string; body?: string; cut?: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const h = /^### (.+)$/.exec(lines[i] ?? '');
    if (!h?.[1]) continue;
    const entry: { head: string; body?: string; cut?: boolean } = { head: h[1].trim() };
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').trim() === '') j++;
    const open = /^(`{3,}|~{3,})/.exec(lines[j] ?? '')?.[1];
    if (open) {
      const body: string[] = [];
      let k = j + 1;
      for (; k < lines.length && (lines[k] ?? '').trim() !== open; k++) body.push(lines[k] ?? '');
      entry.body = body.join('\n');
      // `[cut: the first N of M bytes are shown]` or `[diff cut]` right after the block.
      if (/^\[(cut\b|diff cut)/.test(lines[k + 1] ?? '')) entry.cut = true;
      i = k;
    }
    out.push(entry);
  }
  return out;
}

function shownFiles(block: string | undefined): RepoShownFile[] {
  // `### path (not shown: why)`: a path the worker refused to show (a `.git` path, a symbolic link).
  return entries(block)
    .filter(({ head }) => !/\s\(not shown: [^)]*\)$/.test(head))
    .map(({ head, body, cut }) => {
      const isNew = /\s\(new file\)$/.test(head);
      const path = head.replace(/\s\((?:new file|[^)]*bytes[^)]*)\)$/, '').trim();
      const truncated = Boolean(cut) || /\((?:first|[^)]*of \d+ bytes)[^)]*\)$/.test(head);
      // A file's text ends with a newline; the fenced block shows it without the last one.
      const text = body === undefined || isNew ? undefined : body.endsWith('\n') ? body : `${body}\n`;
      return { path, isNew, truncated, ...(text !== undefined ? { text } : {}) };
    });
}

/** Reads a repo ticket's worker prompt. */
export function parseRepoPrompt(user: string): RepoPromptInfo {
  const repoLine = (sectionOf(user, 'Repository') ?? '').trim().split('\n')[0] ?? '';
  const name = repoLine.split(';')[0]?.trim() ?? '';
  const testCommand = /test command: `([^`]+)`/.exec(repoLine)?.[1];
  const ticketId =
    /^# Ticket (T\d{1,3})\b/m.exec(user)?.[1] ?? /`(?:Maestro|maestro_?)[Tt](\d{1,3})`/.exec(user)?.[1] ?? 'T0';
  const deps = entries(sectionOf(user, 'Changes of the tickets this one depends on')).map(({ head, body }) => {
    const m = /^(T\d{1,3})\s*(.*)$/.exec(head);
    return { ticketId: m?.[1] ?? head, title: m?.[2] ?? '', diff: body ?? '' };
  });
  // Review feedback, or a merge conflict's hunks, on the previous attempt (any such heading).
  const fbHead = /^## ([^\n]*(?:feedback|conflict)[^\n]*)$/im.exec(user)?.[1];
  const fb = fbHead ? sectionOf(user, fbHead) : undefined;
  return {
    ticketId: ticketId.startsWith('T') ? ticketId : `T${ticketId}`,
    name,
    ...(testCommand ? { testCommand } : {}),
    changes: shownFiles(sectionOf(user, 'Files you may change')),
    reads: shownFiles(sectionOf(user, 'Files to read')),
    dependencies: deps,
    ...(fb !== undefined && fb.trim() ? { feedback: fb.trim() } : {}),
  };
}
