/**
 * The `maestro …` command lines of the docs' shell code blocks, checked against the commander
 * program: the command exists, every flag is one of its options (or a global one), and the
 * required arguments are there. Used by test/unit/docs-commands.test.ts, so a renamed flag or
 * command breaks the test instead of a reader's copy-paste.
 */
import type { Command } from 'commander';
import { buildProgram } from '../../client/cli-program';

/** A `maestro` invocation found in a document. */
export interface DocCommand {
  file: string;
  line: number;
  text: string;
  /** The words after `maestro`, shell quotes removed. */
  args: string[];
}

/** A documentation placeholder for a value: `<usd>`, `N`, `NAME`. */
const PLACEHOLDER = /^(<[^>]*>?|[A-Z][A-Z_]*)$/;

const SHELL_FENCE = /^(\s*)(`{3,}|~{3,})\s*(bash|sh|shell|console|zsh)\b/;

/** Splits one shell line into words, honouring quotes and backslashes; stops at a `#` comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      const stop = end < 0 ? line.length : end;
      cur = (cur ?? '') + line.slice(i + 1, stop);
      i = stop;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur = (cur ?? '') + line[++i];
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (ch === '#' && cur === undefined) {
      break;
    } else if ('|;&()'.includes(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
      words.push(ch);
    } else cur = (cur ?? '') + ch;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** Words of each `maestro` call on a line: after env assignments, `npx`, or `npm run maestro --`. */
export function maestroCalls(words: string[]): string[][] {
  const calls: string[][] = [];
  let start = true;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if ('|;&()'.includes(w)) {
      start = true;
      continue;
    }
    if (!start) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || w === 'npx' || w === 'sudo' || w === 'exec') continue;
    const npmRun = w === 'npm' && words[i + 1] === 'run' && words[i + 2] === 'maestro';
    if (w === 'maestro' || npmRun) {
      let j = npmRun ? i + 3 : i + 1;
      if (npmRun && words[j] === '--') j++;
      let end = j;
      while (end < words.length && !'|;&()'.includes(words[end]!)) end++;
      calls.push(words.slice(j, end));
      i = end - 1;
    }
    start = false;
  }
  return calls;
}

/** Every `maestro` call in the shell code blocks of a markdown text (continuation lines joined). */
export function docCommands(file: string, markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  const lines = markdown.split('\n');
  let fence: string | undefined;
  let shell = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === undefined) {
      if (open) {
        fence = open[1];
        shell = SHELL_FENCE.test(line);
      }
      continue;
    }
    if (open && line.trim() === fence) {
      fence = undefined;
      continue;
    }
    if (!shell) continue;
    const start = i;
    let text = line.replace(/^\s*\$\s+/, '');
    while (/\\\s*$/.test(text) && i + 1 < lines.length) text = text.replace(/\\\s*$/, ' ') + lines[++i]!;
    for (const args of maestroCalls(shellWords(text))) found.push({ file, line: start + 1, text: text.trim(), args });
  }
  return found;
}

/** What is wrong with a call (empty when it is valid), judged by the commander program itself. */
export function problemsOf(args: readonly string[], program: Command = buildProgram()): string[] {
  // maestro's global options take no value, so the first word that is not an option names the command.
  const at = args.findIndex((w) => !w.startsWith('-'));
  const globals = at < 0 ? args : args.slice(0, at);
  const problems = globals
    .filter(
      (f) => !['-h', '--help'].includes(f) && !program.options.some((o) => [o.long, o.short].includes(f.split('=')[0])),
    )
    .map((f) => `unknown option ${f} of maestro (global options: ${program.options.map((o) => o.long).join(', ')})`);
  if (at < 0) return problems;
  const name = args[at]!;
  const cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
  if (!cmd) return [...problems, `no command "maestro ${name}"`];
  // commander keeps the allowUnknownOption() setting private; `maestro temporal` passes everything on.
  if ((cmd as unknown as { _allowUnknownOption?: boolean })._allowUnknownOption) return problems;
  const after = args.slice(at + 1);
  let parsed: { operands: string[]; unknown: string[] };
  try {
    // A flag without its value makes commander exit: throw instead, quietly, and report it.
    parsed = cmd
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} })
      .parseOptions([...after]);
  } catch (err) {
    const value = /argument '(.*)' is invalid/.exec((err as Error).message)?.[1];
    // A placeholder such as <runId> or N is not a value to validate; anything else is a real error.
    if (value === undefined || !PLACEHOLDER.test(value))
      return [...problems, `maestro ${name}: ${(err as Error).message.replace(/^error: /, '')}`];
    return problems;
  }
  problems.push(
    ...parsed.unknown
      .filter((w) => w.startsWith('-') && !['-h', '--help'].includes(w))
      .map((w) => `unknown option ${w.split('=')[0]} of maestro ${name}`),
  );
  const wantsHelp = after.some((w) => w === '-h' || w === '--help');
  const required = cmd.registeredArguments.filter((a) => a.required).length;
  if (!wantsHelp && parsed.operands.length < required)
    problems.push(
      `maestro ${name} needs ${cmd.registeredArguments
        .filter((a) => a.required)
        .map((a) => `<${a.name()}>`)
        .join(' ')}`,
    );
  return problems;
}
