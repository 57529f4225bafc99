/**
 * The simulated model's content generators without HTTP: every answer validates against the
 * shared schemas for many goals and role sets, subjects are read from goals, and the generic
 * JSON-schema sampler handles refs and combinators.
 */
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import {
  buildFinalPrompt,
  buildPlanPrompt,
  buildReviewPrompt,
  buildWorkerPrompt,
  type DependencyView,
  type FileExcerpt,
} from '../../src/activities/roles/prompts';
import { excerptOfText } from '../../src/activities/artifacts/excerpt';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { validatePlan } from '../../src/shared/plan-graph';
import { BOSS_SYSTEM_PROMPT, DEFAULT_ROLES } from '../../src/shared/roles';
import { FinalReport, planSchemaForRoles, Review, WorkResult } from '../../src/shared/schemas';
import { rolesFromPlanSchema, sampleFromSchema, SimContent } from '../../src/dev/sim-llm';
import { breakAgainstSchema } from '../../src/dev/sim-llm/content';
import { deriveSubject } from '../../src/dev/sim-llm/subject';

const excerpt = (f: { path: string; content: string }): FileExcerpt => excerptOfText(f.path, f.content);

const systemFor = (role: string) =>
  DEFAULT_ROLES.find((r) => r.name === role)?.systemPrompt ??
  `You are the ${role[0]?.toUpperCase()}${role.slice(1)} on a small team.`;

/** Runs a whole simulated run in-process and validates every answer. */
function runGoal(goal: string, roles: { name: string; description: string }[], maxTickets = 100) {
  const sim = new SimContent();
  const names = roles.map((r) => r.name);
  const planSchema = planSchemaForRoles(names);
  const pp = buildPlanPrompt({ bossSystemPrompt: BOSS_SYSTEM_PROMPT, goal, roles, maxTickets });
  const schema = zodResponseFormat(planSchema, SCHEMA_NAMES.plan).json_schema.schema;
  const plan = planSchema.parse(
    sim.answer({ schemaName: SCHEMA_NAMES.plan, schema, system: pp.system, user: pp.user }),
  );
  expect(validatePlan(plan, names, maxTickets)).toEqual([]);
  const outputs = new Map<string, WorkResult>();
  for (const ticket of plan.tickets) {
    const deps: DependencyView[] = ticket.dependsOn.map((id) => {
      const dep = plan.tickets.find((t) => t.id === id)!;
      const out = outputs.get(id)!;
      return { ticketId: id, role: dep.role, title: dep.title, summary: out.summary, files: out.files.map(excerpt) };
    });
    let accepted: WorkResult | undefined;
    let feedback: string | undefined;
    for (let attempt = 1; attempt <= 4 && !accepted; attempt++) {
      const wp = buildWorkerPrompt({
        roleSystemPrompt: systemFor(ticket.role),
        ticket,
        dependencies: deps,
        attempt,
        ...(feedback ? { feedback } : {}),
      });
      const result = WorkResult.parse(sim.answer({ schemaName: SCHEMA_NAMES.work, system: wp.system, user: wp.user }));
      const rp = buildReviewPrompt({
        bossSystemPrompt: BOSS_SYSTEM_PROMPT,
        ticket,
        summary: result.summary,
        files: result.files.map(excerpt),
        attempt,
        revisionsLeft: 2,
      });
      const review = Review.parse(sim.answer({ schemaName: SCHEMA_NAMES.review, system: rp.system, user: rp.user }));
      expect(review.criteria.every((c) => c.met)).toBe(review.verdict === 'accept');
      if (review.verdict === 'accept') accepted = result;
      feedback = review.feedback;
    }
    expect(accepted).toBeDefined();
    outputs.set(ticket.id, accepted!);
  }
  const fp = buildFinalPrompt({
    bossSystemPrompt: BOSS_SYSTEM_PROMPT,
    goal,
    planSummary: plan.summary,
    tickets: plan.tickets.map((t) => ({
      id: t.id,
      role: t.role,
      title: t.title,
      state: 'accepted',
      summary: outputs.get(t.id)?.summary ?? '',
    })),
    files: [...outputs.values()].flatMap((o) => o.files.map((f) => f.path)),
  });
  const final = FinalReport.parse(sim.answer({ schemaName: SCHEMA_NAMES.final, system: fp.system, user: fp.user }));
  return { plan, outputs, final };
}

const DEFAULT = DEFAULT_ROLES.map((r) => ({ name: r.name, description: r.description }));

describe.each([
  'Build a landing page for a coffee shop called Bean There',
  'Create a website for my bakery "Sweet Crumbs" in Berlin [sim:revise=1]',
  'Make a homepage for Jane Doe, a photographer',
  'Write a short essay about the history of bees',
  'Write a CLI tool that counts words in text files',
  'Plan a garden party [sim:tickets=9]',
  'x',
])('goal %s', (goal) => {
  test.each([
    ['default roles', DEFAULT],
    ['writer and coder', DEFAULT.filter((r) => r.name === 'writer' || r.name === 'coder')],
    ['a custom role', [{ name: 'analyst', description: 'analyses things' }]],
  ])('%s: every answer is schema-valid and the run converges', (_label, roles) => {
    const { final } = runGoal(goal, roles);
    expect(final.followUps).toEqual([]);
  });
});

test('the ticket bound of the prompt is respected', () => {
  const { plan } = runGoal('Build a landing page for a coffee shop called Bean There', DEFAULT, 3);
  expect(plan.tickets).toHaveLength(3);
});

test('roles are read from the plan JSON schema', () => {
  const schema = zodResponseFormat(planSchemaForRoles(['a', 'b']), 'x').json_schema.schema;
  expect(rolesFromPlanSchema(schema)).toEqual(['a', 'b']);
});

test.each([
  ['Build a landing page for a coffee shop called Bean There', { name: 'Bean There', kind: 'coffee shop' }],
  ['Create a website for my bakery "Sweet Crumbs" in Berlin', { name: 'Sweet Crumbs', kind: 'bakery' }],
  [
    'Build a web page for a local yoga studio named Stretch & Breathe.',
    { name: 'Stretch & Breathe', kind: 'yoga studio' },
  ],
  ['Build a website for a café called Café Olé in Zürich', { name: 'Café Olé', kind: 'café' }],
  ['Landing page for an accounting firm', { name: 'Accounting Firm', kind: 'accounting firm' }],
])('subject of %s', (goal, subject) => {
  expect(deriveSubject(goal)).toEqual(subject);
});

test('schema-invalid answers fail the schema', () => {
  const schema = zodResponseFormat(Review, 'r').json_schema.schema;
  const broken = breakAgainstSchema({ verdict: 'accept', feedback: '', criteria: [] }, schema);
  expect(Review.safeParse(broken).success).toBe(false);
});

describe('sampleFromSchema', () => {
  test('refs, defs, combinators and bounds', () => {
    const schema = {
      type: 'object',
      required: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      properties: {
        a: { $ref: '#/$defs/Item' },
        b: { anyOf: [{ type: 'null' }, { type: 'integer', exclusiveMinimum: 4 }] },
        c: { type: ['null', 'string'], minLength: 7 },
        d: { const: 'fixed' },
        e: { type: 'array', minItems: 3, items: { $ref: '#/definitions/Leaf' } },
        f: {
          allOf: [
            { type: 'object', required: ['x'], properties: { x: { type: 'boolean' } } },
            { required: ['y'], properties: { y: { type: 'number', minimum: 2.5 } } },
          ],
        },
        g: { type: 'string', pattern: '^T\\d{1,3}$' },
        h: { type: 'string', format: 'date-time' },
      },
      $defs: { Item: { type: 'object', required: ['kind'], properties: { kind: { enum: ['first', 'second'] } } } },
      definitions: { Leaf: { type: 'string' } },
    };
    expect(sampleFromSchema(schema)).toEqual({
      a: { kind: 'first' },
      b: 5,
      c: 'simsimsim'.slice(0, 9),
      d: 'fixed',
      e: ['sim', 'sim', 'sim'],
      f: { x: false, y: 2.5 },
      g: 'T1',
      h: '2000-01-01T00:00:00Z',
    });
  });

  test('a zod 4 schema with reused parts validates', () => {
    const Leaf = z.object({ id: z.string().min(2), n: z.number().int().min(1).max(9) });
    const Root = z.object({
      left: Leaf,
      right: Leaf,
      list: z.array(Leaf).min(1),
      mode: z.union([z.literal('x'), z.literal('y')]),
    });
    const schema = zodResponseFormat(Root, 'root').json_schema.schema;
    expect(Root.safeParse(sampleFromSchema(schema)).success).toBe(true);
  });
});
