/**
 * The simulated agent on a repo ticket: it reads the file its ticket may change (read_file),
 * writes it back with one small function added and writes a test of it in the language's
 * convention, runs the repository's test command (run_command), then answers quoting the result.
 * Under `[sim:repo-fail=Tn]` (in its spec) the first attempt's function returns a wrong value, so
 * its own test fails; with review feedback it writes the right one. A re-opened ticket (a merge
 * conflict) reads the file again from its new tree and adds its function to what is there now.
 * Without tools (a single-call role) it answers with the two files' full contents.
 */
import {
  functionName,
  functionText,
  functionVariants,
  isTestFile,
  langOf,
  testText,
  type FunctionValue,
  type SimLang,
} from './repo-lang';
import { repoDirectivesOf } from './repo-plan';
import { parseRepoPrompt, type RepoPromptInfo, type RepoShownFile } from './repo-prompt';
import { clip } from './subject';
import type { SimWorkResult } from './work';

/** A past tool call of the conversation (see agent.ts). */
export interface RepoPastCall {
  name: string;
  args: Record<string, unknown>;
  result: string;
  turn: number;
}

/** A tool call to make: name and arguments. */
export interface RepoCallWish {
  name: string;
  args: Record<string, unknown>;
}

/** What the edit of one ticket is. */
interface EditPlan {
  lang: SimLang;
  source: string;
  testFile: string;
  value: FunctionValue;
  esmHint: boolean;
}

const failedRun = (result: string) => /^ERROR|STOPPED|exit code [1-9]/m.test(result);
const cut = (text: string) => /\n\[\.\.\. \d+ more characters/.test(text);

function editPlan(info: RepoPromptInfo, user: string): EditPlan | undefined {
  // The source file to add to: one it may change, else one its spec has it add to though the plan
  // named it only to read (a plan mistake that `[sim:repo-conflict]` makes on purpose).
  const isSource = (f: RepoShownFile) => !f.isNew && langOf(f.path) !== undefined && !isTestFile(f.path);
  const source = info.changes.find(isSource) ?? info.reads.find(isSource);
  const lang = source ? langOf(source.path) : undefined;
  if (!source || !lang) return undefined;
  const testFile =
    info.changes.find((f) => f.path !== source.path && isTestFile(f.path) && langOf(f.path) === lang)?.path ??
    info.changes.find((f) => f.path !== source.path && f.isNew)?.path;
  if (!testFile) return undefined;
  const dep = info.dependencies.find((d) => d.diff.includes(functionName(lang, d.ticketId)));
  const wrong = repoDirectivesOf(user).fail.includes(info.ticketId) && info.feedback === undefined;
  const own = info.ticketId;
  const expected = dep ? `${dep.ticketId}+${own}` : own;
  const value: FunctionValue = {
    expected,
    ...(dep ? { uses: functionName(lang, dep.ticketId) } : {}),
    ...(wrong ? { wrong: true } : {}),
  };
  return { lang, source: source.path, testFile, value, esmHint: source.path.endsWith('.mjs') };
}

/** The source file with this ticket's function (once, right or wrong as planned) at its end. */
function edited(plan: EditPlan, ticketId: string, text: string): string {
  let body = text;
  const dep = plan.value.uses;
  for (const v of functionVariants(plan.lang, ticketId, dep)) body = body.split(v).join('');
  if (!body.endsWith('\n')) body += '\n';
  const esm = plan.esmHint || (plan.lang === 'js' && /^\s*(export|import)\s/m.test(body));
  return body + functionText(plan.lang, ticketId, plan.value, esm);
}

/** The files the ticket writes, given the source file's current text. */
function filesFor(plan: EditPlan, ticketId: string, sourceText: string): { path: string; content: string }[] {
  return [
    { path: plan.source, content: edited(plan, ticketId, sourceText) },
    {
      path: plan.testFile,
      content: testText({
        lang: plan.lang,
        ticketId,
        source: plan.source,
        sourceText,
        testFile: plan.testFile,
        expected: plan.value.expected,
      }),
    },
  ];
}

/** A file no language edit applies to (e.g. `MAESTRO.md` of a repo with no source the simulator edits). */
function plainFiles(info: RepoPromptInfo): { path: string; content: string }[] {
  return info.changes
    .filter((f) => f.isNew || (f.text !== undefined && !f.truncated))
    .slice(0, 1)
    .map((f) => ({ path: f.path, content: `${f.text ?? ''}Maestro ticket ${info.ticketId} on ${info.name}.\n` }));
}

/** The summary line of a run of the test command. */
function quoteRun(c: RepoPastCall): string {
  const lines = c.result.split('\n');
  const status = lines.find((l) => /^(exit code|STOPPED|ERROR)/.test(l)) ?? lines[0] ?? '';
  const fails = lines.filter((l) => /^(--- )?FAIL\b|^FAILED |\bAssertionError\b/.test(l)).slice(0, 3);
  return [`${String(c.args.command)}: ${status}`, ...fails].join('; ');
}

/** The next step of the agent on a repo ticket: tool calls to make, or the final answer. */
export function repoAgentStep(
  user: string,
  tools: readonly string[],
  past: readonly RepoPastCall[],
): { calls: RepoCallWish[] } | { final: SimWorkResult } {
  const info = parseRepoPrompt(user);
  const plan = editPlan(info, user);
  const has = (t: string) => tools.includes(t);
  const id = info.ticketId;
  const reads = past.filter((c) => c.name === 'read_file');
  const writes = past.filter((c) => c.name === 'write_file');
  const lastWrite = writes.reduce((n, c) => Math.max(n, c.turn), 0);
  const runs = past.filter((c) => c.name === 'run_command');
  const toRead = plan
    ? [plan.source, ...info.reads.filter((f) => !f.isNew && f.path !== plan.source).map((f) => f.path)]
    : info.changes.filter((f) => !f.isNew).map((f) => f.path);
  if (has('read_file') && toRead.length > 0 && reads.length === 0)
    return { calls: toRead.slice(0, 5).map((path) => ({ name: 'read_file', args: { path } })) };

  let files: { path: string; content: string }[] = [];
  let problem: string | undefined;
  if (plan) {
    const read = reads.find((c) => c.args.path === plan.source);
    const fromTool = read && !/^ERROR/.test(read.result) && !cut(read.result) ? read.result : undefined;
    const shown = [...info.changes, ...info.reads].find((f) => f.path === plan.source);
    const fromPrompt = shown?.text !== undefined && !shown.truncated ? shown.text : undefined;
    const text = fromTool ?? fromPrompt;
    if (text === undefined)
      problem = `I could not read the whole of ${plan.source}, so I left it unchanged rather than cut it.`;
    else files = filesFor(plan, id, text);
  } else files = plainFiles(info);

  if (has('write_file') && files.length > 0 && writes.length === 0)
    return { calls: files.map((f) => ({ name: 'write_file', args: { path: f.path, content: f.content } })) };
  const ranAfter = runs.some((r) => r.turn > lastWrite);
  if (has('run_command') && info.testCommand && writes.length > 0 && !ranAfter)
    return { calls: [{ name: 'run_command', args: { command: info.testCommand } }] };

  const last = runs[runs.length - 1];
  const what = plan
    ? `added ${functionName(plan.lang, id)} to ${plan.source} and its test ${plan.testFile}`
    : 'made no code change';
  const result = last ? ` Tests: ${quoteRun(last)}${failedRun(last.result) ? ' (FAILED)' : ' (passed)'}.` : '';
  const revised = info.feedback !== undefined ? ' Revised after feedback.' : '';
  const summary = `${id} (coder) on ${info.name}: ${problem ?? what}.${result}${revised}`;
  // Files written with write_file are delivered already; without tools the answer carries them.
  return { final: { summary: clip(summary, 2000), files: has('write_file') ? [] : files } };
}

/** The single-call answer to a repo worker prompt: both files in full. */
export function repoWorkResult(user: string): SimWorkResult {
  const step = repoAgentStep(user, [], []);
  return 'final' in step ? step.final : { summary: 'no change', files: [] };
}
