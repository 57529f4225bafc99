/**
 * The simulated model on a real repository, without Temporal: the Boss plans from a repository
 * map (contract format) of a real project fetched from a registry, the agent edits real files
 * with tools that this test executes on a real checkout (read_file, write_file, run_command of
 * the project's own test command), the Boss reviews from the checks. Covers the plain case, the
 * `[sim:repo-fail=T1]` repair, the `[sim:repo-conflict]` re-open on the new base, and that
 * nothing changes for prompts without a map.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { zodResponseFormat } from 'openai/helpers/zod';
import { buildPlanPrompt, buildReviewPrompt } from '../../src/activities/roles/prompts';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../../src/shared/roles';
import { z } from 'zod';
import { validatePlan } from '../../src/shared/plan-graph';
import { Plan, Review, Ticket, WorkResult } from '../../src/shared/schemas';
import { SimContent } from '../../src/dev/sim-llm';
import { agentStep } from '../../src/dev/sim-llm/agent';
import { toolSpecs } from '../../src/activities/tools/tool-specs';
import { goFixture, pythonFixture, type RepoFixture } from '../helpers/repo-fixtures';

const run = promisify(execFile);
const ROLES = DEFAULT_ROLES.map((r) => ({ name: r.name, description: r.description }));
const TOOLS = toolSpecs(['read_file', 'list_files', 'write_file', 'run_command']);

function filesOf(dir: string, rel = ''): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    if (name === '.git') continue;
    const p = rel ? `${rel}/${name}` : name;
    const st = statSync(path.join(dir, p));
    if (st.isDirectory()) out.push(...filesOf(dir, p));
    else out.push({ path: p, bytes: st.size });
  }
  return out;
}

/** A repository map in the contract's format (what the client builds; a small version of it). */
function mapOf(fx: RepoFixture, test: string): string {
  const files = filesOf(fx.dir);
  const symbols = files
    .filter((f) => /\.(go|py)$/.test(f.path))
    .map((f) => {
      const text = readFileSync(path.join(fx.dir, f.path), 'utf8');
      const names = [...text.matchAll(/^(?:func (\w+)|def (\w+))/gm)].map((m) =>
        m[1] ? `func ${m[1]}` : `def ${m[2]}`,
      );
      return names.length > 0 ? `- ${f.path}: ${names.slice(0, 5).join(', ')}` : '';
    })
    .filter(Boolean);
  return [
    `# Repository map: ${path.basename(fx.dir)} at ${fx.head.slice(0, 12)} (${files.length} files, 1000 B)`,
    `Languages: ${fx.language === 'go' ? 'Go' : 'Python'} ${files.length}`,
    `Test command: ${test}`,
    '## README (opening)',
    'A project.',
    '## Tree',
    ...files.map((f) => `- ${f.path} (${f.bytes} B)`),
    '## Symbols',
    ...symbols,
  ].join('\n');
}

const fence = (text: string) => `\`\`\`\n${text.replace(/\n$/, '')}\n\`\`\``;

/** A repo ticket's worker prompt in the contract's format, from the ticket's checkout. */
function workerPrompt(
  t: Ticket,
  dir: string,
  name: string,
  test: string,
  deps: { id: string; title: string; diff: string }[],
  feedback?: string,
) {
  const shown = (p: string) =>
    existsSync(path.join(dir, p))
      ? `### ${p}\n${fence(readFileSync(path.join(dir, p), 'utf8'))}`
      : `### ${p} (new file)`;
  const parts = [
    `# Ticket ${t.id}: ${t.title}`,
    `## Specification\n${t.spec}`,
    `## Acceptance criteria\n${t.acceptanceCriteria.map((c) => `- ${c}`).join('\n')}`,
    `## Repository\n${name}; test command: \`${test}\``,
    `## Files you may change\n${(t.changes ?? []).map(shown).join('\n\n')}`,
    `## Files to read\n${(t.reads ?? []).map(shown).join('\n\n')}`,
    ...(deps.length > 0
      ? [
          `## Changes of the tickets this one depends on\n${deps.map((d) => `### ${d.id} ${d.title}\n\`\`\`diff\n${d.diff}\n\`\`\``).join('\n\n')}`,
        ]
      : []),
    ...(feedback ? [`## Reviewer feedback on your previous attempt (attempt 1)\n${feedback}`] : []),
    '## Answer\nReturn a short summary.',
  ];
  return { system: 'You are the Coder on a small team.', user: parts.join('\n\n') };
}

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir });
  return stdout;
}

/** Runs the simulated agent on a checkout, executing its tool calls; returns its checks and answer. */
async function agentOn(dir: string, prompt: { system: string; user: string }, argv: string[]) {
  const messages: unknown[] = [
    { role: 'system', content: prompt.system },
    { role: 'user', content: prompt.user },
  ];
  const checks: string[] = [];
  for (let turn = 0; turn < 10; turn++) {
    const step = agentStep({ system: prompt.system, user: prompt.user, messages, tools: TOOLS });
    if ('final' in step) return { checks, final: WorkResult.parse(step.final) };
    messages.push({ role: 'assistant', content: null, tool_calls: step.toolCalls });
    for (const c of step.toolCalls) {
      const a = JSON.parse(c.function.arguments) as { path?: string; content?: string; command?: string };
      let content: string;
      if (c.function.name === 'read_file') content = readFileSync(path.join(dir, a.path!), 'utf8');
      else if (c.function.name === 'write_file') {
        mkdirSync(path.dirname(path.join(dir, a.path!)), { recursive: true });
        writeFileSync(path.join(dir, a.path!), a.content!);
        content = `wrote ${a.path}`;
      } else {
        expect(a.command).toBe(argv.join(' '));
        const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
        const res = await run(argv[0]!, argv.slice(1), { cwd: dir, env }).then(
          (r) => ({ code: 0, out: r.stdout + r.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
        );
        content = `$ ${a.command}\nexit code ${res.code} (1 ms, 1 bytes of output)\n${res.out}`;
        checks.push(`run_command ${a.command} — ${res.code === 0 ? 'passed' : 'FAILED'} (exit ${res.code})`);
      }
      messages.push({ role: 'tool', tool_call_id: c.id, content });
    }
  }
  throw new Error('the agent did not finish in 10 turns');
}

function review(sim: SimContent, t: Ticket, summary: string, checks: string[], attempt: number) {
  const rp = buildReviewPrompt({
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    ticket: t,
    summary,
    files: [],
    attempt,
    revisionsLeft: 2,
    checks,
  });
  return Review.parse(sim.answer({ schemaName: SCHEMA_NAMES.review, system: rp.system, user: rp.user }));
}

function plan(sim: SimContent, goal: string, map: string): { summary: string; tickets: Ticket[] } {
  const names = ROLES.map((r) => r.name);
  const pp = buildPlanPrompt({ bossSystemPrompt: BOSS_SYSTEM_PROMPT, goal, roles: ROLES, maxTickets: 10 });
  const user = pp.user.replace('\n\n# Roles you can assign', `\n\n# Repository\n${map}\n\n# Roles you can assign`);
  // The plan schema as the API gets it: `changes`/`reads` required and nullable (strict mode).
  const paths = z.array(z.string()).nullable();
  const role = z.enum(names as [string, ...string[]]);
  const strict = Plan.extend({ tickets: z.array(Ticket.extend({ role, changes: paths, reads: paths })) });
  const json = zodResponseFormat(strict, SCHEMA_NAMES.plan).json_schema.schema;
  const answer = strict.parse(sim.answer({ schemaName: SCHEMA_NAMES.plan, schema: json, system: pp.system, user }));
  const tickets = answer.tickets.map(({ changes, reads, ...t }) =>
    Ticket.parse({ ...t, ...(changes ? { changes } : {}), ...(reads ? { reads } : {}) }),
  );
  expect(validatePlan({ tickets }, names, 10)).toEqual([]);
  return { summary: answer.summary, tickets };
}

/**
 * A whole simulated repo run, sequentially: each ticket works on its own worktree at the branch
 * as it was when it started; accepted work is merged in order; a conflict re-opens the ticket.
 */
async function simulate(fx: RepoFixture, goal: string) {
  const test = fx.testCommand.join(' ');
  const sim = new SimContent();
  const p = plan(sim, goal, mapOf(fx, test));
  await git(fx.dir, 'checkout', '-q', '-b', 'run');
  const starts = new Map<string, string>();
  const diffs = new Map<string, string>();
  const log: { id: string; attempts: number; reopened: boolean }[] = [];
  // The first two tickets start together on the base (parallel); later ones when they may start.
  for (const t of p.tickets) if (t.dependsOn.length === 0) starts.set(t.id, await git(fx.dir, 'rev-parse', 'HEAD'));
  for (const t of p.tickets) {
    let start = starts.get(t.id) ?? (await git(fx.dir, 'rev-parse', 'HEAD'));
    let feedback: string | undefined;
    let reopened = false;
    for (let attempt = 1; attempt <= 4; attempt++) {
      const wt = `${fx.dir}-wt-${t.id}-${attempt}`;
      await git(fx.dir, 'worktree', 'add', '-q', '--detach', wt, start.trim());
      const deps = t.dependsOn.map((d) => ({ id: d, title: d, diff: diffs.get(d) ?? '' }));
      const prompt = workerPrompt(t, wt, path.basename(fx.dir), test, deps, feedback);
      expect(prompt.user).not.toContain(goal);
      const { checks, final } = await agentOn(wt, prompt, fx.testCommand);
      const r = review(sim, t, final.summary, checks, attempt);
      if (r.verdict === 'revise') {
        feedback = r.feedback;
        continue;
      }
      await git(wt, 'add', '-A');
      await git(wt, 'commit', '-q', '-m', `${t.id}: ${t.title}`);
      const commit = (await git(wt, 'rev-parse', 'HEAD')).trim();
      const merged = await git(fx.dir, 'cherry-pick', commit).then(
        () => true,
        async () => {
          await git(fx.dir, 'cherry-pick', '--abort');
          return false;
        },
      );
      if (!merged) {
        reopened = true;
        feedback = `Your change conflicts with the run branch in ${t.changes?.[0]}: redo it on the new base.`;
        start = await git(fx.dir, 'rev-parse', 'HEAD');
        continue;
      }
      diffs.set(t.id, await git(fx.dir, 'show', '--format=', 'HEAD'));
      log.push({ id: t.id, attempts: attempt, reopened });
      break;
    }
  }
  return { plan: p, log };
}

/**
 * `go test ./...` in the module, failing with go's own output. The module's own tests are not ours
 * (a loaded CI machine failed this once, before its output was kept): when only they fail, never a
 * Maestro-added one, the run is repeated once before it counts.
 */
async function goTest(dir: string): Promise<{ stdout: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run('go', ['test', './...'], { cwd: dir });
    } catch (err) {
      const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
      const failed = [...out.matchAll(/^--- FAIL: (\S+)/gm)].map((m) => m[1]!);
      const upstreamOnly = failed.length > 0 && failed.every((n) => !/maestro/i.test(n));
      if (attempt === 1 && upstreamOnly) continue;
      throw new Error(`go test ./... failed in ${dir}:\n${out.slice(-4000)}`);
    }
  }
}

describe('the simulated model on a real Go module (google/uuid)', () => {
  it('plans disjoint tickets on real files and its edits pass the module tests', async () => {
    const fx = await goFixture();
    const { plan: p, log } = await simulate(fx, 'Add small tagged helpers to the library, with tests');
    expect(p.tickets.map((t) => [t.id, t.dependsOn])).toEqual([
      ['T1', []],
      ['T2', []],
      ['T3', ['T1']],
    ]);
    const sources = p.tickets.map((t) => t.changes![0]!);
    for (const s of sources) expect(existsSync(path.join(fx.dir, s))).toBe(true);
    expect(new Set([sources[0], sources[1]]).size).toBe(2); // parallel tickets on disjoint files
    expect(log.map((l) => [l.id, l.attempts])).toEqual([
      ['T1', 1],
      ['T2', 1],
      ['T3', 1],
    ]);
    const source = readFileSync(path.join(fx.dir, sources[0]!), 'utf8');
    expect(source).toContain('func MaestroT1() string { return "T1" }');
    expect(source).toContain('func MaestroT3() string { return MaestroT1() + "+T3" }');
    const t = await goTest(fx.dir);
    expect(t.stdout).toMatch(/^ok\s+github.com\/google\/uuid/m);
    expect(existsSync(path.join(fx.dir, 'maestro_t3_test.go'))).toBe(true);
  }, 120_000);

  it('[sim:repo-fail=T1]: the first attempt fails its own test, the review asks for a fix, the second passes', async () => {
    const fx = await goFixture();
    const { log } = await simulate(fx, 'Add helpers [sim:repo-fail=T1]');
    expect(log.find((l) => l.id === 'T1')?.attempts).toBe(2);
    expect(log.filter((l) => l.id !== 'T1').every((l) => l.attempts === 1)).toBe(true);
    await goTest(fx.dir);
  }, 120_000);

  it('[sim:repo-conflict]: two parallel tickets on one file conflict; the re-opened one adds to the new base', async () => {
    const fx = await goFixture();
    const { plan: p, log } = await simulate(fx, 'Add helpers [sim:repo-conflict]');
    expect(p.tickets[1]!.reads).toEqual([p.tickets[0]!.changes![0]]); // named to read, yet added to
    expect(log.find((l) => l.id === 'T2')).toMatchObject({ reopened: true, attempts: 2 });
    const source = readFileSync(path.join(fx.dir, p.tickets[0]!.changes![0]!), 'utf8');
    for (const n of ['1', '2', '3']) expect(source.match(new RegExp(`func MaestroT${n}\\(`, 'g'))).toHaveLength(1);
    await goTest(fx.dir);
  }, 120_000);
});

describe('the simulated model on a real Python project (idna from PyPI)', () => {
  it('adds functions and unittest tests next to the existing ones that pass with the project tests', async () => {
    const fx = await pythonFixture();
    const { plan: p, log } = await simulate(fx, 'Add small tagged helpers to the package [sim:repo-fail=T2]');
    expect(p.tickets.every((t) => t.changes![0]!.startsWith('idna/'))).toBe(true);
    expect(p.tickets[0]!.changes![1]).toBe('tests/test_maestro_t1.py');
    expect(log.map((l) => [l.id, l.attempts])).toEqual([
      ['T1', 1],
      ['T2', 2],
      ['T3', 1],
    ]);
    const out = await run('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: fx.dir });
    expect(out.stdout).toMatch(/\b35 passed\b/); // idna's 32 and the three added
  }, 120_000);
});
