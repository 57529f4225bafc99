/**
 * docs/reference/environment.md from config-env.ts: the variables loadConfig() parses (EnvSchema,
 * with their zod metadata) and the ones single modules read (OTHER_ENV_VARIABLES).
 */
import { z } from 'zod';
import { ENV_GROUPS, EnvSchema, OTHER_ENV_VARIABLES, type EnvDoc } from '../../config-env';
import { typeOf } from './configuration';
import { code, generatedNote, prose, table } from './markdown';

/** One documented variable: name, value type text, and its documentation. */
export interface EnvRow {
  name: string;
  values: string;
  doc: EnvDoc;
}

/** Every documented variable; throws when an EnvSchema entry has no description. */
export function envRows(): EnvRow[] {
  const parsed = Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const doc = schema.meta() as EnvDoc | undefined;
    if (!doc?.description || !doc.group)
      throw new Error(`config-env.ts: ${name} has no .meta() with a description and a group; add one`);
    const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Parameters<typeof typeOf>[0];
    const values = json.type || json.enum || json.anyOf ? typeOf(json) : 'text';
    return { name, values, doc };
  });
  const other = Object.entries(OTHER_ENV_VARIABLES).map(([name, doc]) => ({ name, values: doc.values ?? 'text', doc }));
  return [...parsed, ...other];
}

/** The page: one table per group of variables. */
export function environmentReference(rows: EnvRow[] = envRows()): string {
  const sections = ENV_GROUPS.flatMap((group) => {
    const inGroup = rows.filter((r) => r.doc.group === group).sort((a, b) => a.name.localeCompare(b.name));
    if (inGroup.length === 0) return [];
    return [
      '',
      `## ${group}`,
      '',
      table(
        ['Variable', 'Values', 'Default', 'Description'],
        inGroup.map((r) => [
          code(r.name),
          prose(r.values),
          r.doc.default === undefined ? '' : prose(r.doc.default),
          prose(r.doc.description),
        ]),
      ),
    ];
  });
  return [
    '# Environment variables',
    '',
    generatedNote('the environment schema (src/config-env.ts)'),
    '',
    'An invalid value stops the command at start-up with the variable, what is wrong and what a valid value looks like.',
    'An empty value counts as unset.',
    ...sections,
    '',
  ].join('\n');
}
