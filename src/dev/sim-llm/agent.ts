/**
 * The simulated model as an agent: answers chat requests that offer `tools` (or carry tool
 * results) with OpenAI `tool_calls`, deterministically from the conversation so far, the way a
 * careful worker would: look at the workspace, write its deliverables, run the tests it can find,
 * fix its files once when a test fails (the failure becomes its own feedback), check its pages,
 * write its test report from the real results, then give the final answer quoting them.
 */
import { isObject } from './http-util';
import { sampleFromSchema } from './json-schema-sample';
import { flattenContent } from './openai-format';
import { repoAgentStep } from './repo-agent';
import { isRepoPrompt } from './repo-prompt';
import { directivesOf } from './subject';
import { roleOfSystem, workResultFor, type SimWorkResult } from './work';

/** The page a Tester names under `[sim:bad-tool-call=1]`: a malformed call, not a page (issue 19, item 2.5). */
export const GARBAGE_PAGE = `${'x/'.repeat(60)}${'@#%&'.repeat(25)}.html`;

/** A tool call in OpenAI's response shape. */
export interface SimToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** What the simulated agent does next: call tools, or answer. */
export type SimAgentStep = { toolCalls: SimToolCall[] } | { final: SimWorkResult };

interface PastCall {
  name: string;
  args: Record<string, unknown>;
  result: string;
  /** Index of the assistant turn that made it. */
  turn: number;
}

function toolNames(tools: unknown): string[] {
  return toolDefs(tools).map((t) => t.name);
}

function toolDefs(tools: unknown): { name: string; parameters: unknown }[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .map((t) =>
      isObject(t) && isObject(t.function) && typeof t.function.name === 'string'
        ? { name: t.function.name, parameters: t.function.parameters }
        : { name: '', parameters: undefined },
    )
    .filter((t) => t.name !== '');
}

/** Whether a request is an agent turn: it offers tools or continues a conversation with tool results. */
export function isAgentRequest(body: Record<string, unknown>): boolean {
  if (toolNames(body.tools).length > 0) return true;
  return Array.isArray(body.messages) && body.messages.some((m) => isObject(m) && m.role === 'tool');
}

function pastCalls(messages: unknown[]): PastCall[] {
  const results = new Map<string, string>();
  for (const m of messages)
    if (isObject(m) && m.role === 'tool' && typeof m.tool_call_id === 'string')
      results.set(m.tool_call_id, flattenContent(m.content));
  const calls: PastCall[] = [];
  let turn = 0;
  for (const m of messages) {
    if (!isObject(m) || m.role !== 'assistant') continue;
    turn++;
    for (const c of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
      if (!isObject(c) || !isObject(c.function) || typeof c.id !== 'string') continue;
      let args: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(typeof c.function.arguments === 'string' ? c.function.arguments : '{}');
        if (isObject(parsed)) args = parsed;
      } catch {
        args = {};
      }
      calls.push({ name: String(c.function.name), args, result: results.get(c.id) ?? '', turn });
    }
  }
  return calls;
}

const isReport = (p: string) => /test-report/i.test(p);
const isTestScript = (p: string) => /(^|\/)tests?\/.*\.m?js$|\.test\.m?js$/.test(p);
const failed = (result: string) => /^ERROR|STOPPED|exit code [1-9]|PROBLEMS \(/m.test(result);

/** The lines of a tool result worth quoting: results, failures, the status line. */
function quote(call: PastCall): string {
  const lines = call.result.split('\n');
  const status = lines.find((l) => /^(exit code|STOPPED|ERROR|problems:|PROBLEMS)/.test(l)) ?? lines[0] ?? '';
  const from = lines.findIndex((l) => l.startsWith('PROBLEMS'));
  const problems =
    from < 0
      ? []
      : lines
          .slice(from + 1)
          .filter((l, i, all) => l.startsWith('- ') && all.slice(0, i).every((p) => p.startsWith('- ')));
  const fails = [...lines.filter((l) => /^FAIL\b/.test(l)), ...problems].slice(0, 5);
  const tally = lines.find((l) => /checks passed/.test(l));
  const what = call.name === 'run_command' ? String(call.args.command) : `check_page ${String(call.args.page)}`;
  return [`${what}: ${status}`, ...(tally ? [tally] : []), ...fails].join('; ');
}

function call(id: string, name: string, args: Record<string, unknown>): SimToolCall {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}

/** The next step of the simulated agent for a conversation. */
export function agentStep(args: { system: string; user: string; messages: unknown[]; tools: unknown }): SimAgentStep {
  const tools = toolNames(args.tools);
  const past = pastCalls(args.messages);
  const turn = past.reduce((n, c) => Math.max(n, c.turn), 0) + 1;
  const id = (i: number) => `call_sim_${turn}_${i}`;
  const has = (t: string) => tools.includes(t);
  if (isRepoPrompt(args.user)) {
    const step = repoAgentStep(args.user, tools, past);
    return 'final' in step ? step : { toolCalls: step.calls.map((c, i) => call(id(i), c.name, c.args)) };
  }
  const runs = past.filter((c) => c.name === 'run_command');
  const checks = past.filter((c) => c.name === 'run_command' || c.name === 'check_page');
  const lastCheck = checks[checks.length - 1];
  // A failing check is the agent's own feedback: its files are written again from it, once.
  const fixes = past.some((c) => c.name === 'write_file' && checks.some((r) => r.turn < c.turn));
  // A tester reports a failing check; the other roles fix their own files.
  const fixesOwn = roleOfSystem(args.system) !== 'tester';
  const feedback = fixesOwn && lastCheck && failed(lastCheck.result) && !fixes ? lastCheck.result : undefined;
  const user = feedback
    ? `${args.user}\n\n## Reviewer feedback on your previous attempt (attempt 0)\nA check failed:\n${feedback}`
    : args.user;
  const work = workResultFor(args.system, user, true);
  const written = past.filter((c) => c.name === 'write_file').map((c) => String(c.args.path));
  const lastWrite = past.filter((c) => c.name === 'write_file').reduce((n, c) => Math.max(n, c.turn), 0);
  const known = new Set([...written, ...listedFiles(past), ...work.files.map((f) => f.path)]);

  if (tools.length > 0) {
    if (has('list_files') && !past.some((c) => c.name === 'list_files'))
      return { toolCalls: [call(id(0), 'list_files', { path: '' })] };
    // MCP tools (`server__tool`): each is tried once, with arguments sampled from its schema.
    const mcp = toolDefs(args.tools).filter((t) => t.name.includes('__') && !past.some((c) => c.name === t.name));
    if (mcp.length > 0)
      return {
        toolCalls: mcp.map((t, i) =>
          call(id(i), t.name, (sampleFromSchema(t.parameters) ?? {}) as Record<string, unknown>),
        ),
      };
    const toWrite = work.files.filter((f) => !isReport(f.path) && (!written.includes(f.path) || feedback));
    if (has('write_file') && toWrite.length > 0)
      return { toolCalls: toWrite.map((f, i) => call(id(i), 'write_file', { path: f.path, content: f.content })) };
    const test = [...known].find(isTestScript);
    if (has('run_command') && test && !runs.some((r) => r.turn > lastWrite))
      return { toolCalls: [call(id(0), 'run_command', { command: `node ${test}` })] };
    const page = [...known].find((p) => p.endsWith('.html'));
    const garbage = (c: PastCall) => c.name === 'check_page' && c.args.page === GARBAGE_PAGE;
    if (
      has('check_page') &&
      page &&
      roleOfSystem(args.system) === 'tester' &&
      directivesOf(args.user).badToolCall !== undefined &&
      !past.some(garbage)
    )
      return { toolCalls: [call(id(0), 'check_page', { page: GARBAGE_PAGE })] };
    if (has('check_page') && page && !past.some((c) => c.name === 'check_page' && !garbage(c) && c.turn > lastWrite))
      return { toolCalls: [call(id(0), 'check_page', { page })] };
  }
  const results = [
    ...past.filter((c) => c.name.includes('__')).map((c) => `${c.name}: ${c.result.split('\n')[0] ?? ''}`),
    ...[...runs.slice(-1), ...past.filter((c) => c.name === 'check_page').slice(-1)].map(quote),
  ];
  const reports = work.files.filter((f) => isReport(f.path) || !has('write_file') || !written.includes(f.path));
  const files = reports.map((f) =>
    isReport(f.path) && results.length > 0
      ? {
          ...f,
          content: `${f.content}\n## Results of the runs in the sandbox\n\n${results.map((r) => `- ${r}`).join('\n')}\n`,
        }
      : f,
  );
  const ran = results.length > 0 ? `Results: ${results.join(' | ')}. ` : '';
  const firstFailure = checks.find((c) => failed(c.result));
  const fixed = fixes && firstFailure ? `A check failed first (${quote(firstFailure)}); fixed and re-run. ` : '';
  return { final: { summary: `${ran}${fixed}${work.summary}`.slice(0, 2000), files } };
}

function listedFiles(past: PastCall[]): string[] {
  const listing = past.find((c) => c.name === 'list_files')?.result ?? '';
  return [...listing.matchAll(/^(\S+) \(\d+ bytes\)$/gm)].map((m) => m[1] ?? '').filter((p) => p !== '');
}

/**
 * The simulated reviewer's reading of an agent's checks (the review prompt's "Checks the agent
 * ran"): the last run of each check counts; a check whose last run failed is the feedback.
 */
export function failingCheckOf(reviewPrompt: string): string | undefined {
  const block = /## Checks the agent ran[^\n]*\n((?:- .*\n?)*)/.exec(reviewPrompt)?.[1] ?? '';
  const last = new Map<string, string>();
  for (const line of block.split('\n').filter((l) => l.startsWith('- '))) {
    const [what, outcome = ''] = line.slice(2).split(' — ');
    last.set(what ?? '', outcome);
  }
  const failing = [...last].find(([, outcome]) => outcome.startsWith('FAILED'));
  return failing ? `The check "${failing[0]}" still fails: fix what it reports and run it again.` : undefined;
}

/** The calls of a `tool-calls` fault in OpenAI's response shape (ids given or made unique per request). */
export function scriptedToolCalls(
  calls: { id?: string; name: string; arguments: string }[],
  seq: number,
): SimToolCall[] {
  return calls.map((c, i) => ({
    id: c.id ?? `call_script_${seq}_${i}`,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
}
