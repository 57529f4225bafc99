/**
 * Wrapping the commands `maestro watch` prints for a person to copy (approve a gate) at the
 * terminal's width, between shell words only: a line the terminal wraps itself is cut at column
 * 80 mid-flag (`--work` / `flow-id`), and a command copied from two such halves does not run.
 * Continued lines end with ` \` so the copied lines still paste as one command.
 */

/** Widths outside this range are not a terminal's: COLUMNS=0, or a typo of a few million. */
const MIN_WIDTH = 20;
const MAX_WIDTH = 10_000;
/** When neither the terminal nor COLUMNS says. */
export const DEFAULT_WIDTH = 80;

/**
 * The width to lay text out at: the terminal's columns when stdout is one, else COLUMNS when it
 * holds a sensible whole number, else 80.
 */
export function terminalWidth(
  stdout: { isTTY?: boolean; columns?: number } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const cols = stdout.isTTY ? stdout.columns : undefined;
  if (cols !== undefined && Number.isInteger(cols) && cols >= MIN_WIDTH) return Math.min(cols, MAX_WIDTH);
  const raw = env.COLUMNS?.trim() ?? '';
  if (/^\d{1,9}$/.test(raw) && Number(raw) >= MIN_WIDTH) return Math.min(Number(raw), MAX_WIDTH);
  return DEFAULT_WIDTH;
}

/**
 * The words of a shell command as the shell splits them: spaces inside single or double quotes,
 * and a backslash-escaped character, stay inside their word.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    // Words are kept verbatim (quotes and escapes included): only where they split matters.
    if (quote) {
      word += ch;
      if (quote === '"' && ch === '\\' && i + 1 < command.length) word += command[++i]!;
      else if (ch === quote) quote = undefined;
    } else if (ch === ' ') {
      if (word) words.push(word);
      word = '';
    } else if (ch === '\\' && i + 1 < command.length) {
      word += ch + command[++i]!;
    } else {
      if (ch === "'" || ch === '"') quote = ch;
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}

/**
 * `command` after `prefix`, in lines of at most `width` columns, broken only between words;
 * continued lines end with ` \` and start with `indent` (default: spaces as wide as `prefix`). A
 * line is longer than `width` only when one word alone does not fit.
 */
export function wrapCommand(
  prefix: string,
  command: string,
  width: number,
  indent = ' '.repeat(prefix.length),
): string[] {
  const words = shellWords(command);
  const lines: string[] = [];
  let line = prefix;
  let count = 0;
  words.forEach((w, i) => {
    const more = i < words.length - 1 ? 2 : 0; // room for ` \` when words follow
    if (count > 0 && line.length + 1 + w.length + more > width) {
      lines.push(`${line} \\`);
      line = indent + w;
      count = 1;
      return;
    }
    line = count > 0 ? `${line} ${w}` : line + w;
    count++;
  });
  lines.push(line);
  return lines;
}
