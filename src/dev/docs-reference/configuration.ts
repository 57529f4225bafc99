/**
 * docs/reference/configuration.md from the zod schema of maestro.config.json (ConfigFileSchema,
 * through z.toJSONSchema), so every key the file accepts is listed with its type, limits, default
 * and the description the schema carries.
 */
import { z } from 'zod';
import { ConfigFileSchema } from '../../config-file';
import { code, generatedNote, prose, table } from './markdown';

/** The subset of JSON Schema that z.toJSONSchema writes for this file. */
interface Json {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Json[];
  properties?: Record<string, Json>;
  additionalProperties?: Json | boolean;
  propertyNames?: Json;
  required?: string[];
  items?: Json;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  description?: string;
  default?: unknown;
}

function limits(min: number | undefined, max: number | undefined, unit = ''): string {
  if (min !== undefined && max !== undefined) return `${min}–${max}${unit}`;
  if (min !== undefined) return `≥ ${min}${unit}`;
  if (max !== undefined) return `≤ ${max}${unit}`;
  return '';
}

/** A short type text: `integer 1–100`, `"a" | "b"`, `array of string (≤ 20)`, `URL`. */
export function typeOf(s: Json): string {
  if (s.anyOf) return s.anyOf.map(typeOf).join(' or ');
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  switch (s.type) {
    case 'string': {
      if (s.format === 'uri') return 'URL';
      const len = limits(s.minLength, s.maxLength, ' chars');
      const extra = [len, s.pattern ? `matching \`${s.pattern}\`` : ''].filter(Boolean).join(', ');
      return extra ? `string (${extra})` : 'string';
    }
    case 'integer':
    case 'number': {
      const range = limits(s.minimum, s.maximum);
      return range ? `${s.type} ${range}` : s.type;
    }
    case 'array': {
      const n = limits(s.minItems, s.maxItems, ' items');
      return `array of ${s.items ? typeOf(s.items) : 'any'}${n ? ` (${n})` : ''}`;
    }
    case 'object':
      if (s.properties) return 'object';
      if (s.additionalProperties && typeof s.additionalProperties === 'object')
        return `map of ${s.propertyNames ? typeOf(s.propertyNames) : 'string'} to ${typeOf(s.additionalProperties)}`;
      return 'object';
    default:
      return s.type ?? 'any';
  }
}

/** One row per key, depth first: `roles[].retry.maximumAttempts`. */
export function keyRows(s: Json, prefix = ''): { key: string; schema: Json; required: boolean }[] {
  const rows: { key: string; schema: Json; required: boolean }[] = [];
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    rows.push({ key, schema: prop, required: (s.required ?? []).includes(name) });
    rows.push(...nested(prop, key));
  }
  return rows;
}

function nested(s: Json, key: string): { key: string; schema: Json; required: boolean }[] {
  if (s.properties) return keyRows(s, key);
  if (s.type === 'array' && s.items) return nested(s.items, `${key}[]`);
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return nested(s.additionalProperties, `${key}.<name>`);
  if (s.anyOf) return s.anyOf.flatMap((a) => nested(a, key));
  return [];
}

/** The JSON Schema of the file as a reader sees it (input side; refinements are not part of it). */
export function configJsonSchema(): Json {
  return z.toJSONSchema(ConfigFileSchema, { io: 'input', unrepresentable: 'any' }) as Json;
}

/** The page: every key of maestro.config.json with type, default and description. */
export function configurationReference(schema: Json = configJsonSchema()): string {
  const rows = keyRows(schema).map(({ key, schema: s, required }) => [
    code(key),
    prose(typeOf(s)) + (required ? ' (required)' : ''),
    s.default === undefined ? '' : code(JSON.stringify(s.default)),
    prose(s.description ?? ''),
  ]);
  return [
    '# Configuration file reference',
    '',
    generatedNote('the zod schema of `maestro.config.json` (src/config-file.ts)'),
    '',
    'Maestro reads `maestro.config.json` from the working directory, or the file `MAESTRO_CONFIG` names.',
    'Unknown keys are refused, and every error names the key to fix.',
    '`roles[].x` is key `x` of each entry of the `roles` array; `prices.<name>.x` is key `x` of each',
    'entry of the `prices` object.',
    '',
    table(['Key', 'Type', 'Default', 'Description'], rows),
    '',
  ].join('\n');
}
