/**
 * aider offers no tools: it asks the model for edits in plain text and applies them itself. Its
 * system prompt names the edit format it parses ("whole": a *file listing* of each file's whole
 * content; "diff": SEARCH/REPLACE blocks), so the simulated CLI brain answers a ticket in that
 * format (measured on aider-chat 0.86 against this simulator through Maestro's gateway).
 */

/** The edit formats of aider the simulator can answer in. */
export type AiderFormat = 'whole' | 'diff';

/** The edit format an aider request asks for (from its system prompt and reminders), if it is one. */
export function aiderFormatOf(texts: readonly string[]): AiderFormat | undefined {
  const all = texts.join('\n');
  if (/SEARCH\/REPLACE block/.test(all) && /<<<<<<< SEARCH/.test(all)) return 'diff';
  if (/\*file listing\* format/.test(all)) return 'whole';
  return undefined;
}

/** A fence that no line of `content` starts with (aider ends a listing at a line opening with it). */
function fenceFor(content: string): string {
  for (const f of ['```', '````', '`````', '~~~~~~']) if (!content.split('\n').some((l) => l.startsWith(f))) return f;
  return '```````';
}

/**
 * The reply that writes `files` in `format`: a line of summary, then one block per file (new files
 * in "diff" are an empty SEARCH section).
 */
export function aiderReply(
  format: AiderFormat,
  files: readonly { path: string; content: string }[],
  summary: string,
): string {
  const blocks = files.map((f) => {
    const body = f.content.endsWith('\n') ? f.content : `${f.content}\n`;
    const fence = fenceFor(body);
    return format === 'whole'
      ? `${f.path}\n${fence}\n${body}${fence}`
      : `${f.path}\n${fence}\n<<<<<<< SEARCH\n=======\n${body}>>>>>>> REPLACE\n${fence}`;
  });
  return `${summary}\n\n${blocks.join('\n\n')}\n`;
}
