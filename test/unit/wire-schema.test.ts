/**
 * Portable wire schemas: every schema Maestro sends keeps to OpenAI's strict-mode rules (which
 * also keep llama.cpp grammars within bounds), carries its limits as words, maps the nulls of
 * optional fields back, and the full zod schema is still enforced locally. The real grammar
 * compiler check is in test/integration/llama-engine.test.ts.
 */
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import {
  isSimplePattern,
  strictModeProblems,
  wireSchemaOf,
  type JsonSchema,
} from '../../src/activities/llm/wire-schema';
import { jsonOfText } from '../../src/activities/llm/output-modes';
import { adjustmentFor } from '../../src/activities/llm/adaptations';
import { cutOffAdvice } from '../../src/activities/llm/structured';
import { ALL_WIRE_SCHEMAS } from '../helpers/wire-schemas';
import OpenAI from 'openai';

describe('wire schemas', () => {
  it.each(ALL_WIRE_SCHEMAS.map((s) => [s.name, s] as const))('%s follows the strict-mode rules', (_name, s) => {
    const wire = wireSchemaOf(s.schema).schema;
    expect(strictModeProblems(wire)).toEqual([]);
    const text = JSON.stringify(wire);
    for (const k of ['minLength', 'maxLength', '$schema', 'minimum']) expect(text).not.toContain(`"${k}"`);
    // The portable variant (providers that refuse counts and patterns) carries no constraint keyword.
    const portable = wireSchemaOf(s.schema, 'portable').schema;
    expect(strictModeProblems(portable)).toEqual([]);
    for (const k of ['minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', '$schema', 'minimum'])
      expect(JSON.stringify(portable)).not.toContain(`"${k}"`);
  });

  it('keeps the constraints a grammar can enforce: minItems, maxItems up to 100, simple patterns', () => {
    const plan = wireSchemaOf(ALL_WIRE_SCHEMAS[0]!.schema).schema as {
      properties: { tickets: JsonSchema & { items: { properties: Record<string, JsonSchema> } } };
    };
    // An empty plan and ids like "1" were what small models answered when these were dropped.
    expect(plan.properties.tickets).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
    const ticket = plan.properties.tickets.items.properties;
    expect(ticket.id).toMatchObject({ type: 'string', pattern: '^T\\d{1,3}$' });
    expect(ticket.acceptanceCriteria).toMatchObject({ minItems: 1, maxItems: 12 });
    expect(ticket.dependsOn!.maxItems).toBe(50);
    expect(ticket.dependsOn!.minItems).toBeUndefined(); // 0 says nothing
    // Lengths stay words only: llama.cpp refuses `maxLength: 4000` as a repetition count.
    expect(ticket.spec!.maxLength).toBeUndefined();
    // Counts above 100 and patterns a grammar compiler may not take stay words only.
    const big = wireSchemaOf(
      z.object({
        many: z.array(z.string()).max(101),
        look: z.string().regex(/^(?!x)a+$/),
        unanchored: z.string().regex(/T\d+/),
        backref: z.string().regex(/^(a)\1$/),
        long: z.string().regex(/^a{1,500}$/),
      }),
    ).schema as { properties: Record<string, JsonSchema> };
    for (const [key, prop] of Object.entries(big.properties)) {
      expect({ key, maxItems: prop.maxItems, pattern: prop.pattern }).toEqual({ key });
      expect(prop.description).toMatch(/at most 101 items|must match/);
    }
  });

  it('tells simple patterns from ones a grammar compiler may refuse', () => {
    for (const p of [
      '^T\\d{1,3}$',
      '^[a-z][a-z0-9-]{0,31}$',
      '^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$',
    ])
      expect({ p, simple: isSimplePattern(p) }).toEqual({ p, simple: true });
    for (const p of [
      'T\\d+',
      '^(?=a)a$',
      '^(a)\\1$',
      '^\\bword$',
      '^\\p{L}+$',
      '^a{1,500}$',
      '^[a-$',
      `^${'a'.repeat(300)}$`,
    ])
      expect({ p, simple: isSimplePattern(p) }).toEqual({ p, simple: false });
  });

  it('the schemas as sent before (zodResponseFormat) break the rules the engines need', () => {
    const before = zodResponseFormat(ALL_WIRE_SCHEMAS[0]!.schema, 'maestro_plan').json_schema.schema as JsonSchema;
    expect(strictModeProblems(before)).toEqual(
      expect.arrayContaining([expect.stringContaining('keyword "maxLength" is not allowed')]),
    );
  });

  it('converts a schema once: every later call of the same schema gets the same wire schema', () => {
    const schema = z.object({ a: z.string().max(5), b: z.number().optional() });
    const first = wireSchemaOf(schema);
    expect(wireSchemaOf(schema)).toBe(first);
    // A different schema object (even an equal one) is converted on its own.
    const other = wireSchemaOf(z.object({ a: z.string().max(5), b: z.number().optional() }));
    expect(other).not.toBe(first);
    expect(other.schema).toEqual(first.schema);
  });

  it('moves limits into descriptions and keeps enums', () => {
    const plan = wireSchemaOf(ALL_WIRE_SCHEMAS[0]!.schema).schema as {
      properties: { tickets: { description: string; items: { properties: Record<string, JsonSchema> } } };
    };
    expect(plan.properties.tickets.description).toBe('(1 to 100 items)');
    const ticket = plan.properties.tickets.items.properties;
    expect(ticket.spec!.description).toBe('(1 to 4000 characters)');
    expect(ticket.id!.description).toBe('(must match /^T\\d{1,3}$/)');
    expect(ticket.role!.enum).toEqual(['designer', 'writer', 'coder', 'tester']);
  });

  it('optional properties become required and nullable, and nulls map back before zod validates', () => {
    const schema = z.object({
      title: z.string().max(10),
      note: z.string().optional(),
      tags: z.array(z.object({ name: z.string(), weight: z.number().optional() })),
      kind: z.enum(['a', 'b']).optional(),
      extra: z.object({ x: z.boolean() }).optional(),
    });
    const wire = wireSchemaOf(schema);
    expect(strictModeProblems(wire.schema)).toEqual([]);
    const props = (wire.schema as { properties: Record<string, JsonSchema> }).properties;
    expect(props.note!.type).toEqual(['string', 'null']);
    expect(props.kind!.enum).toEqual(['a', 'b', null]);
    expect(props.extra!.anyOf).toEqual([expect.objectContaining({ type: 'object' }), { type: 'null' }]);
    const answer = { title: 'hi', note: null, tags: [{ name: 't', weight: null }], kind: null, extra: null };
    expect(schema.parse(wire.restore(answer))).toEqual({ title: 'hi', tags: [{ name: 't' }] });
    // The full schema still applies locally: the wire lost maxLength, zod did not.
    expect(schema.safeParse(wire.restore({ ...answer, title: 'far too long a title' })).success).toBe(false);
  });
});

describe('answers and refusals', () => {
  it('takes the JSON out of prose, fences and plain answers', () => {
    expect(jsonOfText('{"a":1}')).toBe('{"a":1}');
    expect(jsonOfText('Sure!\n```json\n{"a":1}\n```\nBye')).toBe('{"a":1}');
    expect(jsonOfText('Here: {"a":{"b":2}} done')).toBe('{"a":{"b":2}}');
    // A file inside the JSON may hold code fences of its own.
    const inner = JSON.stringify({ content: '```sh\nnpm test\n```' });
    expect(jsonOfText(`Sure!\n\n\`\`\`json\n${inner}\n\`\`\`\n\nLet me know.`)).toBe(inner);
  });

  const err400 = (message: string, param: string | null) =>
    new OpenAI.BadRequestError(
      400,
      { message, param, code: 'unsupported_parameter', type: 'invalid_request_error' },
      message,
      new Headers(),
    );

  it("reads a provider's 400 as the one adjustment it asks for", () => {
    const sent = { mode: 'json_schema' as const, temperature: true, tokenParam: 'max_tokens' as const };
    expect(
      adjustmentFor(
        err400("'response_format' of type 'json_schema' is not supported with this model.", 'response_format'),
        sent,
      )?.patch,
    ).toEqual({ mode: 'json_object' });
    expect(
      adjustmentFor(
        err400(
          "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
          'temperature',
        ),
        sent,
      )?.patch,
    ).toEqual({ dropTemperature: true });
    expect(
      adjustmentFor(
        err400(
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
          'max_tokens',
        ),
        sent,
      )?.patch,
    ).toEqual({ tokenParam: 'max_completion_tokens' });
    // The default output cap refused as too large: lowered to the limit named, else dropped; a
    // configured cap (no defaultCap in what was sent) is the person's choice and stays an error.
    const capped = { ...sent, defaultCap: 8192 };
    const cap = (message: string, param: string | null = 'max_tokens') =>
      adjustmentFor(err400(message, param), capped)?.patch;
    expect(
      cap(
        'max_tokens is too large: 8192. This model supports at most 4096 completion tokens, whereas you provided 8192.',
      ),
    ).toEqual({ defaultCap: 4096 });
    expect(
      cap('max_tokens: 8192 > 4096, which is the maximum allowed number of output tokens for claude-3-haiku'),
    ).toEqual({
      defaultCap: 4096,
    });
    expect(cap("'max_completion_tokens' must be less than or equal to 2048", 'max_completion_tokens')).toEqual({
      defaultCap: 2048,
    });
    // A context-length refusal names no fixed limit (it depends on the prompt): no cap then.
    expect(
      cap(
        "This model's maximum context length is 2048 tokens. However, you requested 8292 tokens (100 in the messages, 8192 in the completion).",
        null,
      ),
    ).toEqual({ defaultCap: 'none' });
    expect(cap('max_tokens is too large', 'max_tokens')).toEqual({ defaultCap: 'none' });
    expect(
      adjustmentFor(
        err400('max_tokens is too large: 9000. This model supports at most 4096 completion tokens.', 'max_tokens'),
        sent,
      ),
    ).toBeUndefined();
    // Refusing the parameter's name is not about its size: switch the parameter, as before.
    expect(
      cap("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."),
    ).toEqual({ tokenParam: 'max_completion_tokens' });
    // Counts and patterns refused in the schema: the portable schema, before any mode fallback.
    expect(
      adjustmentFor(
        err400("Invalid schema for response_format 'maestro_plan': 'minItems' is not permitted.", 'response_format'),
        { ...sent, constrainedSchema: true },
      )?.patch,
    ).toEqual({ portableSchema: true });
    // A 400 about something else is a real configuration error, not a refusal to adapt to.
    expect(adjustmentFor(err400('Invalid model name', 'model'), sent)).toBeUndefined();
    expect(
      adjustmentFor(err400("'response_format' of type 'json_schema' is not supported", null), {
        ...sent,
        mode: 'text',
      }),
    ).toBeUndefined();
  });
});

describe('cut-off advice', () => {
  it("names the Boss's own setting, and no ticket while it plans", () => {
    const plan = cutOffAdvice({ kind: 'plan', role: 'boss' });
    expect(plan).toContain('"boss": {"maxTokens"');
    expect(plan).not.toMatch(/role boss|ticket/);
    expect(cutOffAdvice({ kind: 'final', role: 'boss' })).not.toMatch(/role boss|ticket/);
    expect(cutOffAdvice({ kind: 'review', role: 'boss' })).toContain('"boss": {"maxTokens"');
    expect(cutOffAdvice({ kind: 'work', role: 'writer' })).toBe(
      'raise "maxTokens" of role writer in maestro.config.json or make the ticket smaller.',
    );
  });
});
