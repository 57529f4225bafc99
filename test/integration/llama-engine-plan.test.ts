/**
 * The plan schema as the real llama.cpp engine enforces it (issue 23, 1.1): with `minItems: 1` on
 * the wire, a grammar-constrained answer cannot be an empty plan, even when the prompt asks for
 * one. SmolLM2-135M (greedy, so each prompt answers the same every time) is asked in ways that
 * invite `"tickets": []`; the schema sent before (the `portable` variant, no counts) lets it
 * answer that, the schema sent now does not. Also what the engine does with `pattern`:
 * node-llama-cpp's JSON-schema grammar ignores it, so the ticket-id rule reaches this engine only
 * as words (zod still refuses a bad id locally, and the repair call shows the model why).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { wireSchemaOf, type WireVariant } from '../../src/activities/llm/wire-schema';
import { SMOLLM_MODEL_ID } from '../../src/dev/llama-engine/model-file';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { planSchemaForRoles } from '../../src/shared/schemas';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';

jest.setTimeout(600_000);

let engine: EngineProcess;
beforeAll(async () => {
  engine = await startEngineProcess();
});
afterAll(async () => {
  await engine?.stop();
});

const planSchema = planSchemaForRoles(DEFAULT_ROLES.map((r) => r.name));

/** Prompts that ask for, or make natural, a plan with no tickets. */
const EMPTY_INVITING = [
  'The goal is already done. Answer with an empty list of tickets: {"summary": "Nothing to do", "tickets": []}',
  'Goal: nothing. There is no work, so the plan has no tickets at all.',
  'Return {"summary":"none","tickets":[]} exactly.',
  'Plan the goal "say hi". If no ticket is needed, leave tickets empty.',
];

/** How the answer's ticket list starts: `[]`, `[{`, or not reached before the output cap. */
function ticketsStart(content: string): 'empty' | 'object' | 'not reached' {
  const m = /"tickets"\s*:\s*\[\s*(\]|\{)/.exec(content);
  if (!m) return 'not reached';
  return m[1] === ']' ? 'empty' : 'object';
}

async function askPlan(user: string, variant: WireVariant): Promise<{ content: string; finish: string }> {
  const res = await fetch(`${engine.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: SMOLLM_MODEL_ID,
      messages: [
        { role: 'system', content: 'You are the Boss. You plan work as tickets in JSON.' },
        { role: 'user', content: user },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: SCHEMA_NAMES.plan, strict: true, schema: wireSchemaOf(planSchema, variant).schema },
      },
      temperature: 0,
      // Enough for the summary and the start of a ticket; the list's first bracket is what counts.
      max_tokens: 200,
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
  return { content: body.choices[0]!.message.content, finish: body.choices[0]!.finish_reason };
}

describe('the plan schema on the real llama.cpp engine', () => {
  it('cannot produce an empty plan: every answer opens its ticket list with a ticket', async () => {
    const seen: { prompt: string; start: string; content: string }[] = [];
    for (const prompt of EMPTY_INVITING) {
      const { content } = await askPlan(prompt, 'constrained');
      seen.push({ prompt, start: ticketsStart(content), content: content.slice(0, 300) });
    }
    // Each answer reached its ticket list, and none of them could close it empty.
    expect(seen.filter((s) => s.start !== 'object')).toEqual([]);
    // Answers that ended within the cap parse with at least one ticket.
    for (const s of seen) {
      let parsed: { tickets?: unknown[] } | undefined;
      try {
        parsed = JSON.parse(s.content) as { tickets?: unknown[] };
      } catch {
        continue; // cut at the cap: the bracket check above is what the grammar decided
      }
      expect(parsed.tickets!.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('the schema without counts (what was sent before) lets the same prompts answer an empty plan', async () => {
    const starts: string[] = [];
    for (const prompt of EMPTY_INVITING) starts.push(ticketsStart((await askPlan(prompt, 'portable')).content));
    // The prompts do invite it: without minItems the model takes the invitation at least once.
    expect(starts).toContain('empty');
  });

  it('compiles minItems and maxItems into the grammar but ignores pattern (node-llama-cpp)', () => {
    // The GBNF text the engine's createGrammarForJsonSchema compiles, from node-llama-cpp's own
    // converter (ESM-only, so in a child process).
    const converter = pathToFileURL(
      path.resolve(
        __dirname,
        '../../node_modules/node-llama-cpp/dist/utils/gbnfJson/getGbnfGrammarForGbnfJsonSchema.js',
      ),
    ).href;
    const gbnf = (schema: unknown): string =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { getGbnfGrammarForGbnfJsonSchema as g } from ${JSON.stringify(converter)}; process.stdout.write(g(JSON.parse(process.argv[1])));`,
          JSON.stringify(schema),
        ],
        { encoding: 'utf8' },
      );
    const obj = (items: Record<string, unknown>, id: Record<string, unknown>) => ({
      type: 'object',
      properties: { ids: { type: 'array', items: { type: 'string', ...id }, ...items } },
      required: ['ids'],
      additionalProperties: false,
    });
    const plain = gbnf(obj({}, {}));
    const counted = gbnf(obj({ minItems: 1, maxItems: 3 }, {}));
    const patterned = gbnf(obj({}, { pattern: '^T\\d{1,3}$' }));
    // With counts the list must hold one string and at most three; without, it may be empty.
    expect(plain).toMatch(/\( string-rule \( comma-whitespace-b-2-4-rule string-rule \)\* \)\?/);
    expect(counted).toMatch(
      /"\[" whitespace-b-2-4-rule string-rule \( comma-whitespace-b-2-4-rule string-rule \)\{0,2\}/,
    );
    // A pattern leaves the grammar exactly as without one: the id rule reaches this engine as words only.
    expect(patterned).toBe(plain);
  });
});
