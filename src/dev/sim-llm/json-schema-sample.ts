/**
 * A minimal value that satisfies a JSON schema, for `response_format` schemas the simulated
 * model has no dedicated generator for (like a real model asked for an unfamiliar shape).
 * Handles objects, arrays, strings, numbers, booleans, enums, const, anyOf/oneOf/allOf and
 * `$ref` into `$defs` / `definitions`.
 */

type Schema = Record<string, unknown>;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follows a local `$ref` (`#/$defs/X`, `#/definitions/X`, `#`) against the root schema. */
export function resolveRef(root: Schema, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; hops < 20; hops++) {
    const ref = current.$ref;
    if (typeof ref !== 'string') break;
    if (!ref.startsWith('#')) return {};
    let target: unknown = root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      target = isSchema(target) ? target[key] : undefined;
    }
    current = isSchema(target) ? target : {};
  }
  return current;
}

const STRING_CANDIDATES = [
  'sim',
  'a',
  'T1',
  '1',
  'x',
  'sim@example.com',
  'https://example.com',
  '2000-01-01',
  '2000-01-01T00:00:00Z',
  'A1',
];

function sampleString(s: Schema): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  const format = s.format;
  if (format === 'date-time') return '2000-01-01T00:00:00Z';
  if (format === 'date') return '2000-01-01';
  if (format === 'email') return 'sim@example.com';
  if (format === 'uri' || format === 'url') return 'https://example.com';
  if (format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  const fits = (c: string) => c.length >= min && c.length <= max;
  if (typeof s.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch {
      re = undefined;
    }
    const hit = STRING_CANDIDATES.find((c) => fits(c) && (!re || re.test(c)));
    if (hit !== undefined) return hit;
  }
  let out = 'sim';
  while (out.length < min) out += 'sim';
  return out.slice(0, Math.max(min, Math.min(out.length, max)));
}

function sampleNumber(s: Schema, integer: boolean): number {
  let n = 0;
  if (typeof s.minimum === 'number') n = Math.max(n, s.minimum);
  if (typeof s.exclusiveMinimum === 'number') n = Math.max(n, s.exclusiveMinimum + (integer ? 1 : 0.5));
  if (typeof s.maximum === 'number') n = Math.min(n, s.maximum);
  if (typeof s.exclusiveMaximum === 'number' && n >= s.exclusiveMaximum) n = s.exclusiveMaximum - (integer ? 1 : 0.5);
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0) n = Math.ceil(n / s.multipleOf) * s.multipleOf;
  return integer ? Math.ceil(n) : n;
}

/** A minimal value valid against `schema` (resolved against `root` for `$ref`). */
export function sampleFromSchema(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isSchema(schema) || depth > 32) return null;
  const rootSchema = isSchema(root) ? root : {};
  const s = resolveRef(rootSchema, schema);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = s[key];
    if (Array.isArray(branches) && branches.length > 0) {
      const nonNull: unknown = branches.find((b) => !(isSchema(b) && b.type === 'null'));
      return sampleFromSchema(nonNull ?? branches[0], rootSchema, depth + 1);
    }
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged: Schema = { ...s, allOf: undefined };
    const props: Schema = {};
    const required: string[] = [];
    for (const part of s.allOf) {
      const p = isSchema(part) ? resolveRef(rootSchema, part) : {};
      if (isSchema(p.properties)) Object.assign(props, p.properties);
      if (Array.isArray(p.required)) required.push(...(p.required as string[]));
      if (p.type && !merged.type) merged.type = p.type;
    }
    delete merged.allOf;
    merged.properties = { ...(isSchema(s.properties) ? s.properties : {}), ...props };
    merged.required = [...(Array.isArray(s.required) ? (s.required as string[]) : []), ...required];
    return sampleFromSchema(merged, rootSchema, depth + 1);
  }
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? type[0];
  if (type === undefined) type = isSchema(s.properties) ? 'object' : s.items ? 'array' : 'string';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = isSchema(s.properties) ? s.properties : {};
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      for (const key of required) out[key] = sampleFromSchema(props[key] ?? {}, rootSchema, depth + 1);
      return out;
    }
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 0;
      const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
      const out: unknown[] = [];
      for (let i = 0; i < min; i++) out.push(sampleFromSchema(prefix[i] ?? s.items ?? {}, rootSchema, depth + 1));
      return out;
    }
    case 'string':
      return sampleString(s);
    case 'integer':
      return sampleNumber(s, true);
    case 'number':
      return sampleNumber(s, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return null;
  }
}
