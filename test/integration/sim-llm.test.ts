/**
 * The simulated LLM server over real HTTP with the real OpenAI client: content for the
 * Boss and worker schemas, the review loop, the test directives, usage, the request log,
 * every fault kind, API-key checking and close() with hung requests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import OpenAI from 'openai';
import { LengthFinishReasonError } from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import {
  buildFinalPrompt,
  buildPlanPrompt,
  buildReviewPrompt,
  buildWorkerPrompt,
  type DependencyView,
  type FileExcerpt,
  type Prompt,
} from '../../src/activities/roles/prompts';
import { excerptOfText } from '../../src/activities/artifacts/excerpt';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { findCycle, validatePlan } from '../../src/shared/plan-graph';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../../src/shared/roles';
import { FinalReport, planSchemaForRoles, Review, WorkResult, type Ticket } from '../../src/shared/schemas';
import { SIM_MODEL, startSimLlm, VIEWPORT_FEEDBACK, type SimLlm } from '../../src/dev/sim-llm';

const ROLES = DEFAULT_ROLES.map((r) => ({ name: r.name, description: r.description }));
const ROLE_NAMES = ROLES.map((r) => r.name);
const GOAL = 'Build a landing page for a coffee shop called Bean There';

let sim: SimLlm;
let client: OpenAI;
let workDir: string;
let logFile: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sim-llm-test-'));
  logFile = join(workDir, 'log', 'requests.jsonl');
  sim = await startSimLlm({ logFile });
  client = new OpenAI({ baseURL: sim.baseUrl, apiKey: 'x', maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
  rmSync(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  sim.clearFaults();
});

function messages(p: Prompt) {
  return [
    { role: 'system' as const, content: p.system },
    { role: 'user' as const, content: p.user },
  ];
}

async function ask<T extends z.ZodType>(schema: T, name: string, p: Prompt, signal?: AbortSignal): Promise<z.infer<T>> {
  const completion = await client.chat.completions.parse(
    { model: 'gpt-test', messages: messages(p), response_format: zodResponseFormat(schema, name) },
    signal ? { signal } : undefined,
  );
  const parsed = completion.choices[0]?.message.parsed;
  if (parsed === null || parsed === undefined) throw new Error('no parsed answer');
  return parsed;
}

const planSchema = planSchemaForRoles(ROLE_NAMES);
const planPrompt = (goal: string, problems?: string[]) =>
  buildPlanPrompt({
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    goal,
    roles: ROLES,
    maxTickets: 100,
    ...(problems ? { problems } : {}),
  });
const plan = (goal: string, problems?: string[]) => ask(planSchema, SCHEMA_NAMES.plan, planPrompt(goal, problems));

const excerpt = (f: { path: string; content: string }): FileExcerpt => excerptOfText(f.path, f.content);

function workerPrompt(ticket: Ticket, deps: DependencyView[], attempt: number, feedback?: string): Prompt {
  const role = DEFAULT_ROLES.find((r) => r.name === ticket.role);
  return buildWorkerPrompt({
    roleSystemPrompt: role?.systemPrompt ?? '',
    ticket,
    dependencies: deps,
    attempt,
    ...(feedback ? { feedback } : {}),
  });
}

function reviewPrompt(ticket: Ticket, result: WorkResult, attempt: number): Prompt {
  return buildReviewPrompt({
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    ticket,
    summary: result.summary,
    files: result.files.map(excerpt),
    attempt,
    revisionsLeft: 2,
  });
}

describe('content', () => {
  test('GET /v1/models lists the simulated model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain(SIM_MODEL);
  });

  test('a website goal gives a valid four-role DAG whose specs carry the subject', async () => {
    const p = await plan(GOAL);
    expect(planSchema.safeParse(p).success).toBe(true);
    expect(validatePlan(p, ROLE_NAMES)).toEqual([]);
    expect(p.tickets.map((t) => t.role)).toEqual(['designer', 'writer', 'coder', 'tester']);
    for (const t of p.tickets) {
      expect(t.spec).toContain('Bean There');
      expect(t.spec).toContain('coffee shop');
    }
    expect(p.tickets[2]?.dependsOn).toEqual(['T1', 'T2']);
    expect(p.tickets[3]?.dependsOn).toEqual(['T1', 'T3']);
    expect(await plan(GOAL)).toEqual(p); // deterministic
  });

  test('plans use only the roles of the schema', async () => {
    const roles = [
      { name: 'writer', description: 'writes' },
      { name: 'coder', description: 'codes' },
    ];
    const schema = planSchemaForRoles(['writer', 'coder']);
    const p = buildPlanPrompt({ bossSystemPrompt: BOSS_SYSTEM_PROMPT, goal: GOAL, roles, maxTickets: 100 });
    const answer = await ask(schema, SCHEMA_NAMES.plan, p);
    expect(validatePlan(answer, ['writer', 'coder'])).toEqual([]);
  });

  test('the website run: review loop on the viewport, a working page check, a final report', async () => {
    const p = await plan(GOAL);
    const outputs = new Map<string, WorkResult>();
    const states: { id: string; role: string; title: string; state: string; summary?: string }[] = [];
    for (const ticket of p.tickets) {
      const deps: DependencyView[] = ticket.dependsOn.map((id) => {
        const dep = p.tickets.find((t) => t.id === id)!;
        const out = outputs.get(id)!;
        return { ticketId: id, role: dep.role, title: dep.title, summary: out.summary, files: out.files.map(excerpt) };
      });
      let result = await ask(WorkResult, SCHEMA_NAMES.work, workerPrompt(ticket, deps, 1));
      let review = await ask(Review, SCHEMA_NAMES.review, reviewPrompt(ticket, result, 1));
      if (ticket.role === 'coder') {
        const page = result.files.find((f) => f.path === 'index.html')!;
        expect(page.content).toMatch(/^<!doctype html>/);
        expect(page.content).toContain('<link rel="stylesheet" href="styles.css">');
        expect(page.content).toContain('<script src="script.js" defer></script>');
        expect(page.content).toContain('Bean There');
        expect(page.content).not.toContain('name="viewport"');
        expect(review.verdict).toBe('revise');
        expect(review.feedback).toBe(VIEWPORT_FEEDBACK);
        expect(review.criteria.some((c) => !c.met)).toBe(true);
        result = await ask(WorkResult, SCHEMA_NAMES.work, workerPrompt(ticket, deps, 2, review.feedback));
        expect(result.files.find((f) => f.path === 'index.html')?.content).toContain('<meta name="viewport"');
        review = await ask(Review, SCHEMA_NAMES.review, reviewPrompt(ticket, result, 2));
      }
      expect(review.verdict).toBe('accept');
      expect(review.criteria.map((c) => c.criterion)).toEqual(ticket.acceptanceCriteria);
      expect(review.criteria.every((c) => c.met)).toBe(true);
      outputs.set(ticket.id, result);
      states.push({
        id: ticket.id,
        role: ticket.role,
        title: ticket.title,
        state: 'accepted',
        summary: result.summary,
      });
    }
    const files = [...outputs.values()].flatMap((r) => r.files);
    expect(files.map((f) => f.path).sort()).toEqual(
      [
        'TEST-REPORT.md',
        'content/copy.md',
        'design/style-guide.md',
        'index.html',
        'script.js',
        'styles.css',
        'tests/check-page.mjs',
      ].sort(),
    );
    expect(files.find((f) => f.path === 'styles.css')?.content).toContain('@media (max-width: 640px)');
    expect(files.find((f) => f.path === 'content/copy.md')?.content).toMatch(/^# Headline\nBean There/);
    expect(files.find((f) => f.path === 'index.html')?.content).toContain('Flat white'); // copy reached the page

    const site = join(workDir, 'site');
    for (const f of files) {
      mkdirSync(dirname(join(site, f.path)), { recursive: true });
      writeFileSync(join(site, f.path), f.content);
    }
    const check = spawnSync(process.execPath, [join(site, 'tests/check-page.mjs')], { encoding: 'utf8' });
    expect(check.stdout).toContain('9/9 checks passed');
    expect(check.status).toBe(0);
    writeFileSync(
      join(site, 'index.html'),
      files.find((f) => f.path === 'index.html')!.content.replace(/<meta name="viewport"[^>]*>/, ''),
    );
    const failing = spawnSync(process.execPath, [join(site, 'tests/check-page.mjs')], { encoding: 'utf8' });
    expect(failing.stdout).toContain('FAIL has a viewport meta tag');
    expect(failing.status).toBe(1);

    const final = await ask(
      FinalReport,
      SCHEMA_NAMES.final,
      buildFinalPrompt({
        bossSystemPrompt: BOSS_SYSTEM_PROMPT,
        goal: GOAL,
        planSummary: p.summary,
        tickets: states,
        files: files.map((f) => f.path),
      }),
    );
    expect(final.headline).toContain('Bean There');
    expect(final.summary).toContain('index.html');
    expect(final.followUps).toEqual([]);
  });

  test('a review without files asks for them; [sim:revise=N] asks N times', async () => {
    const ticket: Ticket = {
      id: 'T7',
      role: 'writer',
      title: 'Write docs',
      spec: 'Write docs.\nDeliver this file: `docs/a.md`.\n[sim:revise=1]',
      acceptanceCriteria: ['docs/a.md exists'],
      dependsOn: [],
    };
    const none = await ask(Review, SCHEMA_NAMES.review, reviewPrompt(ticket, { summary: 'nothing', files: [] }, 1));
    expect(none.verdict).toBe('revise');
    expect(none.feedback).toContain('docs/a.md');
    const result = await ask(WorkResult, SCHEMA_NAMES.work, workerPrompt(ticket, [], 1));
    expect(result.files.map((f) => f.path)).toEqual(['docs/a.md']);
    expect((await ask(Review, SCHEMA_NAMES.review, reviewPrompt(ticket, result, 1))).verdict).toBe('revise');
    expect((await ask(Review, SCHEMA_NAMES.review, reviewPrompt(ticket, result, 2))).verdict).toBe('accept');
  });

  test('a final report lists follow-ups for tickets not accepted', async () => {
    const p = buildFinalPrompt({
      bossSystemPrompt: BOSS_SYSTEM_PROMPT,
      goal: GOAL,
      planSummary: 'plan',
      tickets: [
        { id: 'T1', role: 'writer', title: 'Copy', state: 'accepted', summary: 'done' },
        { id: 'T2', role: 'coder', title: 'Page: build it', state: 'escalated' },
      ],
      files: [],
    });
    const final = await ask(FinalReport, SCHEMA_NAMES.final, p);
    expect(final.headline).toMatch(/^Partly delivered \(1 of 2/);
    expect(final.followUps).toHaveLength(1);
    expect(final.followUps[0]).toContain('T2 Page: build it');
  });

  test('a generic goal gives a valid plan, with a coder ticket when code is asked for', async () => {
    const essay = await plan('Write a short essay about the history of bees');
    expect(validatePlan(essay, ROLE_NAMES)).toEqual([]);
    expect(essay.tickets.map((t) => t.role)).toEqual(['writer', 'writer', 'tester']);
    const cli = await plan('Write a CLI tool that counts words in text files');
    expect(validatePlan(cli, ROLE_NAMES)).toEqual([]);
    expect(cli.tickets.map((t) => t.role)).toContain('coder');
  });

  test('[sim:tickets=12] gives 12 tickets in a valid DAG', async () => {
    const p = await plan('Research topic X [sim:tickets=12]');
    expect(p.tickets).toHaveLength(12);
    expect(validatePlan(p, ROLE_NAMES)).toEqual([]);
    expect(p.tickets.filter((t) => t.dependsOn.length === 0)).toHaveLength(4);
  });

  test('[sim:invalid-plan=1] gives a cyclic plan first, then a valid one', async () => {
    const goal = 'Build a website for a bakery called Crumbs [sim:invalid-plan=1]';
    const first = await plan(goal);
    expect(findCycle(first.tickets)).toBeDefined();
    const second = await plan(goal, validatePlan(first, ROLE_NAMES));
    expect(validatePlan(second, ROLE_NAMES)).toEqual([]);
  });

  test('[sim:revise=2] is copied into every spec', async () => {
    const p = await plan('Write a poem about rain [sim:revise=2]');
    for (const t of p.tickets) expect(t.spec).toContain('[sim:revise=2]');
  });

  test('an unknown schema gets a minimal schema-valid value', async () => {
    const Thing = z.object({
      name: z.string().min(5),
      kind: z.enum(['a', 'b']),
      tags: z.array(z.string()).min(2),
      inner: z.object({ n: z.number().int().min(3), flag: z.boolean(), maybe: z.string().nullable() }),
      code: z.string().regex(/^T\d+$/),
    });
    const value = await ask(Thing, 'something_else', { system: 's', user: 'u' });
    expect(Thing.parse(value).tags).toHaveLength(2);
  });
});

describe('protocol', () => {
  test('usage numbers, prompt caching and the request log', async () => {
    sim.clearRequests();
    const p = { ...planPrompt(GOAL), system: `${BOSS_SYSTEM_PROMPT}\n\nTask: write the plan (cache test).` };
    const first = await client.chat.completions.parse({
      model: 'gpt-x',
      messages: messages(p),
      response_format: zodResponseFormat(planSchema, SCHEMA_NAMES.plan),
    });
    const second = await client.chat.completions.parse({
      model: 'gpt-x',
      messages: messages(p),
      response_format: zodResponseFormat(planSchema, SCHEMA_NAMES.plan),
    });
    expect(first.model).toBe('gpt-x');
    const u = first.usage!;
    expect(u.prompt_tokens).toBe(Math.ceil((p.system.length + p.user.length) / 4));
    expect(u.completion_tokens).toBe(Math.ceil((first.choices[0]?.message.content ?? '').length / 4));
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
    expect(u.prompt_tokens_details?.cached_tokens).toBe(0);
    // Below 1,024 tokens nothing is cached (OpenAI's rule; see sim-prompt-cache.test.ts for longer prompts).
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBe(0);

    const ticket: Ticket = {
      id: 'T5',
      role: 'coder',
      title: 'Build',
      spec: 'Build it.',
      acceptanceCriteria: ['works'],
      dependsOn: [],
    };
    await ask(WorkResult, SCHEMA_NAMES.work, workerPrompt(ticket, [], 1));
    await ask(Review, SCHEMA_NAMES.review, {
      ...reviewPrompt(ticket, { summary: 's', files: [{ path: 'a.md', content: 'x' }] }, 1),
    });
    const records = sim.requests();
    expect(records.map((r) => [r.schemaName, r.ticketId, r.status])).toEqual([
      [SCHEMA_NAMES.plan, undefined, 200],
      [SCHEMA_NAMES.plan, undefined, 200],
      [SCHEMA_NAMES.work, 'T5', 200],
      [SCHEMA_NAMES.review, 'T5', 200],
    ]);
    expect(records[2]?.messages[1]?.content).toContain('# Ticket T5: Build');
    expect(records[0]?.usage?.prompt_tokens).toBe(u.prompt_tokens);
    const overHttp = (await (await fetch(sim.baseUrl.replace('/v1', '/_sim/requests'))).json()) as unknown[];
    expect(overHttp).toHaveLength(4);
    const logged = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ticketId?: string });
    expect(logged.some((r) => r.ticketId === 'T5')).toBe(true);
  });

  test('malformed JSON and unknown routes are refused in OpenAI error format', async () => {
    const bad = await fetch(`${sim.baseUrl}/chat/completions`, {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /could not parse the JSON body/,
    );
    const missing = await fetch(`${sim.baseUrl}/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: expect.objectContaining({ type: 'invalid_request_error', code: 'unknown_url' }),
    });
    expect((await (await fetch(sim.baseUrl.replace('/v1', '/_sim/health'))).json()) as object).toMatchObject({
      ok: true,
    });
  });
});

describe('faults', () => {
  const ticket: Ticket = {
    id: 'T3',
    role: 'writer',
    title: 'Write',
    spec: 'Write.',
    acceptanceCriteria: ['ok'],
    dependsOn: [],
  };
  const work = (signal?: AbortSignal) => ask(WorkResult, SCHEMA_NAMES.work, workerPrompt(ticket, [], 1), signal);
  const lastRecord = () => sim.requests().at(-1)!;

  test('rate-limit: 429 with retry-after headers', async () => {
    sim.injectFault({ kind: 'rate-limit', retryAfterMs: 250 });
    const err = await work().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (err as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers?.get('retry-after-ms')).toBe('250');
    expect(headers?.get('retry-after')).toBe('1');
    expect(lastRecord()).toMatchObject({ status: 429, fault: 'rate-limit', ticketId: 'T3' });
    await expect(work()).resolves.toBeDefined(); // consumed
  });

  test.each([
    ['server-error', OpenAI.InternalServerError, 500],
    ['bad-gateway', OpenAI.InternalServerError, 502],
    ['unauthorized', OpenAI.AuthenticationError, 401],
    ['bad-request', OpenAI.BadRequestError, 400],
  ] as const)('%s', async (kind, cls, status) => {
    sim.injectFault({ kind });
    const err = await work().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
  });

  test('drop: APIConnectionError', async () => {
    sim.injectFault({ kind: 'drop' });
    await expect(work()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(lastRecord()).toMatchObject({ fault: 'drop', status: 0 });
  });

  test('hang: the client aborts and the server sees the close', async () => {
    sim.injectFault({ kind: 'hang' });
    const ac = new AbortController();
    const pending = work(ac.signal);
    setTimeout(() => ac.abort(), 200);
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    for (let i = 0; i < 50 && lastRecord().status !== 499; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lastRecord()).toMatchObject({ fault: 'hang', status: 499 });
    expect(lastRecord().durationMs).toBeGreaterThanOrEqual(150);
  });

  test('malformed-json, schema-invalid, truncated and refusal answers', async () => {
    sim.injectFault({ kind: 'malformed-json' });
    await expect(work()).rejects.toBeInstanceOf(SyntaxError);
    sim.injectFault({ kind: 'schema-invalid' });
    await expect(work()).rejects.toBeInstanceOf(z.ZodError);
    sim.injectFault({ kind: 'truncated' });
    await expect(work()).rejects.toBeInstanceOf(LengthFinishReasonError);
    sim.injectFault({ kind: 'refusal' });
    const c = await client.chat.completions.parse({
      model: 'm',
      messages: messages(workerPrompt(ticket, [], 1)),
      response_format: zodResponseFormat(WorkResult, SCHEMA_NAMES.work),
    });
    expect(c.choices[0]?.message.refusal).toMatch(/simulated refusal/);
    expect(c.choices[0]?.message.parsed).toBeNull();
  });

  test('latency delays the answer', async () => {
    sim.injectFault({ kind: 'latency', latencyMs: 300 });
    const t0 = Date.now();
    await work();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(lastRecord()).toMatchObject({ fault: 'latency', status: 200 });
  });

  test('latency delays a streamed answer too (its first chunk)', async () => {
    sim.injectFault({ kind: 'latency', latencyMs: 800 });
    const t0 = Date.now();
    const stream = await client.chat.completions.create({
      model: 'maestro-sim',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let first: number | undefined;
    for await (const _chunk of stream) first ??= Date.now() - t0;
    expect(first).toBeGreaterThanOrEqual(750);
    expect(lastRecord()).toMatchObject({ fault: 'latency', status: 200 });
  });

  test('match, times and FIFO order; admin endpoints', async () => {
    const admin = sim.baseUrl.replace('/v1', '/_sim/faults');
    const json = { 'content-type': 'application/json' };
    const res = await fetch(admin, {
      method: 'POST',
      headers: json,
      body: JSON.stringify([
        { kind: 'server-error', match: { ticketId: 'T9' } },
        { kind: 'bad-gateway', times: 2, match: { schemaName: SCHEMA_NAMES.work, systemIncludes: 'Writer' } },
        { kind: 'bad-request' },
      ]),
    });
    expect(res.status).toBe(200);
    await expect(work()).rejects.toMatchObject({ status: 502 });
    await expect(work()).rejects.toMatchObject({ status: 502 });
    await expect(work()).rejects.toMatchObject({ status: 400 });
    await expect(work()).resolves.toBeDefined();
    expect((await fetch(admin, { method: 'POST', headers: json, body: '{"kind":"nope"}' })).status).toBe(400);
    await fetch(admin, { method: 'DELETE' });
    await expect(
      ask(WorkResult, SCHEMA_NAMES.work, workerPrompt({ ...ticket, id: 'T9' }, [], 1)),
    ).resolves.toBeDefined();
  });
});

describe('server lifecycle', () => {
  test('requireApiKey: 401 AuthenticationError without the key', async () => {
    const locked = await startSimLlm({ requireApiKey: 'secret' });
    try {
      const wrong = new OpenAI({ baseURL: locked.baseUrl, apiKey: 'wrong', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      await expect(
        wrong.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      const right = new OpenAI({ baseURL: locked.baseUrl, apiKey: 'secret', maxRetries: 0 });
      await expect(
        right.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      ).resolves.toBeDefined();
      expect(locked.requests().map((r) => r.status)).toEqual([401, 200]);
    } finally {
      await locked.close();
    }
  });

  test('close() does not hang with a hung request open', async () => {
    const other = await startSimLlm();
    const c = new OpenAI({ baseURL: other.baseUrl, apiKey: 'x', maxRetries: 0 });
    other.injectFault({ kind: 'hang' });
    const pending = c.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    for (let i = 0; i < 100 && other.requests().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
