/**
 * Portable wire schemas. What goes into `response_format` (or a forced tool call) must stay inside
 * the JSON-schema subset every structured-output engine accepts: OpenAI strict mode, llama.cpp /
 * Ollama / LM Studio grammars and vLLM's guided decoding. So the wire schema has every property
 * required, `null` instead of optional, `additionalProperties: false`, enums, and no length or
 * range keywords (llama.cpp turns `maxLength: 4000` into a repetition its grammar parser refuses).
 *
 * Three constraints are kept because a grammar-constrained engine enforces them and without them
 * a small model answers `"tickets": []` or ids like "1" on every attempt: `minItems` and
 * `maxItems` up to 100 (small repetition counts every grammar compiler takes) and simple anchored
 * `pattern`s (no look-arounds, back-references or flags). OpenAI strict mode accepts all three.
 * The `portable` variant drops them too, for providers that refuse them (Azure OpenAI's
 * structured outputs, or any endpoint whose 400 names one: see adaptations.ts).
 *
 * Every limit is also written into the field's description, so the model reads it whatever the
 * engine enforces, and the full zod schema is enforced locally after nulls are mapped back.
 */
import { z } from 'zod';

/** A JSON schema as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** Keywords dropped from the wire because some engine refuses or mishandles them. */
const ALWAYS_DROPPED = [
  '$schema',
  'minLength',
  'maxLength',
  'format',
  'uniqueItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minProperties',
  'maxProperties',
  'default',
] as const;

/** Constraints kept on the wire when small and simple enough (see the module comment). */
const KEPT = ['minItems', 'maxItems', 'pattern'] as const;

/** The largest `minItems` / `maxItems` sent: grammars unroll counts into repeated rules. */
export const MAX_WIRE_ITEMS = 100;

/**
 * A pattern every grammar compiler takes: anchored at both ends, made of literals, classes,
 * `\d` `\w` `\s` and escaped punctuation, groups, alternation and bounded or plain quantifiers
 * (llama.cpp's `json_schema_to_grammar` subset). Look-arounds, back-references, `\b`, Unicode
 * classes and inline flags are not.
 */
export function isSimplePattern(pattern: string): boolean {
  if (pattern.length > 200 || !pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  if (/\\[^dwsDWS.\-_/^$()[\]{}|?*+]|\(\?|\\\d/.test(pattern)) return false;
  try {
    new RegExp(pattern);
  } catch {
    return false;
  }
  // Bounded repeats only up to the same count as arrays (each one is unrolled).
  return [...pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)].every((m) => Number(m[2] || m[1]) <= MAX_WIRE_ITEMS);
}

/** Which constraints a wire schema carries: `constrained` keeps KEPT, `portable` drops them. */
export type WireVariant = 'constrained' | 'portable';

/** Keywords a wire schema may use (the OpenAI strict-mode subset that grammars also handle). */
const ALLOWED = new Set([
  'minItems',
  'maxItems',
  'pattern',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'description',
  'title',
]);

/** Where the wire answer may hold `null` for a property that the zod schema leaves optional. */
type Shape =
  | { kind: 'object'; props: Record<string, { optional: boolean; shape: Shape }> }
  | { kind: 'array'; items: Shape }
  | { kind: 'leaf' };

/** A schema ready for the wire, and how to turn an answer back into what zod validates. */
export interface WireSchema {
  /** The portable JSON schema sent to the provider. */
  schema: JsonSchema;
  /** Removes the `null`s that stand for absent optional properties (a new value). */
  restore: (value: unknown) => unknown;
}

function isRecord(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The limits the wire cannot carry, as words for the field's description. */
function limitsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  const range = (lo: unknown, hi: unknown, unit: string) => {
    const min = typeof lo === 'number' ? lo : undefined;
    const max = typeof hi === 'number' && hi < Number.MAX_SAFE_INTEGER ? hi : undefined;
    if (min !== undefined && max !== undefined) out.push(`${min} to ${max} ${unit}`);
    else if (max !== undefined) out.push(`at most ${max} ${unit}`);
    else if (min !== undefined && min > 0) out.push(`at least ${min} ${unit}`);
  };
  range(s.minLength, s.maxLength, 'characters');
  range(s.minItems, s.maxItems, 'items');
  if (s.type === 'number' || s.type === 'integer') {
    const lo = typeof s.minimum === 'number' && s.minimum > Number.MIN_SAFE_INTEGER ? s.minimum : undefined;
    range(lo, s.maximum, '(value)');
  }
  if (typeof s.pattern === 'string') out.push(`must match /${s.pattern}/`);
  if (typeof s.format === 'string') out.push(`format ${s.format}`);
  return out;
}

/** `schema` that also accepts null (type arrays for scalars and enums, anyOf otherwise). */
function nullable(schema: JsonSchema): JsonSchema {
  const { type } = schema;
  if (Array.isArray(schema.enum)) {
    const values: unknown[] = schema.enum;
    return {
      ...schema,
      enum: values.includes(null) ? values : [...values, null],
      ...(typeof type === 'string' ? { type: [type, 'null'] } : {}),
    };
  }
  if (typeof type === 'string' && type !== 'object' && type !== 'array') return { ...schema, type: [type, 'null'] };
  if (Array.isArray(type))
    return type.includes('null') ? schema : { ...schema, type: [...(type as unknown[]), 'null'] };
  const { description, ...rest } = schema;
  return { anyOf: [rest, { type: 'null' }], ...(description !== undefined ? { description } : {}) };
}

/** Whether `value` of keyword `key` may stay on the wire of the constrained variant. */
function keeps(key: (typeof KEPT)[number], value: unknown): boolean {
  if (key === 'pattern') return typeof value === 'string' && isSimplePattern(value);
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_WIRE_ITEMS;
}

function convert(input: JsonSchema, variant: WireVariant): { schema: JsonSchema; shape: Shape } {
  const limits = limitsOf(input);
  const s: JsonSchema = { ...input };
  for (const k of ALWAYS_DROPPED) delete s[k];
  for (const k of KEPT) if (k in s && (variant === 'portable' || !keeps(k, s[k]))) delete s[k];
  // `minItems: 0` says nothing; leaving it out keeps the schema as short as before.
  if (s.minItems === 0) delete s.minItems;
  if (limits.length > 0)
    s.description = [typeof s.description === 'string' ? s.description : '', `(${limits.join('; ')})`]
      .filter(Boolean)
      .join(' ');
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const options = (s.anyOf ?? s.oneOf) as unknown[];
    delete s.oneOf;
    s.anyOf = options.map((o) => (isRecord(o) ? convert(o, variant).schema : o));
    return { schema: s, shape: { kind: 'leaf' } };
  }
  if (isRecord(s.properties)) {
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    const properties: JsonSchema = {};
    const props: Record<string, { optional: boolean; shape: Shape }> = {};
    for (const [key, value] of Object.entries(s.properties)) {
      if (!isRecord(value)) continue;
      const inner = convert(value, variant);
      const optional = !required.has(key);
      properties[key] = optional ? nullable(inner.schema) : inner.schema;
      props[key] = { optional, shape: inner.shape };
    }
    s.type = 'object';
    s.properties = properties;
    s.required = Object.keys(properties);
    s.additionalProperties = false;
    return { schema: s, shape: { kind: 'object', props } };
  }
  if (isRecord(s.items)) {
    const inner = convert(s.items, variant);
    s.items = inner.schema;
    return { schema: s, shape: { kind: 'array', items: inner.shape } };
  }
  return { schema: s, shape: { kind: 'leaf' } };
}

function restoreWith(shape: Shape, value: unknown): unknown {
  if (shape.kind === 'array' && Array.isArray(value)) return value.map((v) => restoreWith(shape.items, v));
  if (shape.kind !== 'object' || !isRecord(value)) return value;
  const out: JsonSchema = {};
  for (const [key, v] of Object.entries(value)) {
    const prop = shape.props[key];
    if (prop?.optional && v === null) continue;
    out[key] = prop ? restoreWith(prop.shape, v) : v;
  }
  return out;
}

/**
 * Wire schemas already converted, per zod schema: the role schemas are module constants, and
 * converting one (z.toJSONSchema and the walk above) cost about 0.4 ms of the worker's main thread
 * on every LLM call. Callers only read the result.
 */
const converted: Record<WireVariant, WeakMap<z.ZodType, WireSchema>> = {
  constrained: new WeakMap(),
  portable: new WeakMap(),
};

/**
 * The wire schema of a zod schema (what the schema outputs), and the null mapping back. The
 * `constrained` variant (the default) keeps small item counts and simple patterns for engines that
 * enforce them; `portable` drops them for providers that refuse them.
 */
export function wireSchemaOf(schema: z.ZodType, variant: WireVariant = 'constrained'): WireSchema {
  const cache = converted[variant];
  const known = cache.get(schema);
  if (known) return known;
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  const { schema: wire, shape } = convert(json, variant);
  const result: WireSchema = { schema: wire, restore: (value) => restoreWith(shape, value) };
  cache.set(schema, result);
  return result;
}

/**
 * Why a schema breaks OpenAI's strict structured-output rules (empty when it follows them):
 * objects list every property as required and forbid extra ones, only supported keywords appear,
 * and the root is an object. The same rules keep llama.cpp's grammar compiler within its limits.
 */
export function strictModeProblems(schema: JsonSchema): string[] {
  const problems: string[] = [];
  if (schema.type !== 'object') problems.push('(root): must be an object');
  const walk = (s: unknown, at: string) => {
    if (!isRecord(s)) return;
    for (const key of Object.keys(s)) if (!ALLOWED.has(key)) problems.push(`${at}: keyword "${key}" is not allowed`);
    if (isRecord(s.properties)) {
      const keys = Object.keys(s.properties);
      const required = Array.isArray(s.required) ? (s.required as unknown[]) : [];
      const missing = keys.filter((k) => !required.includes(k));
      if (missing.length > 0) problems.push(`${at}: properties not required: ${missing.join(', ')}`);
      if (s.additionalProperties !== false) problems.push(`${at}: additionalProperties must be false`);
      for (const [k, v] of Object.entries(s.properties)) walk(v, `${at}.${k}`);
    } else if (s.type === 'object') problems.push(`${at}: an object needs "properties"`);
    if (s.items !== undefined) walk(s.items, `${at}[]`);
    if (Array.isArray(s.anyOf)) s.anyOf.forEach((o, i) => walk(o, `${at}.anyOf[${i}]`));
  };
  walk(schema, '(root)');
  return problems;
}
