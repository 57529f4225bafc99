/** Every schema Maestro sends to a model, by its wire name, for the schema and grammar tests. */
import type { z } from 'zod';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { FinalReport, planSchemaForRoles, Review, WorkResult } from '../../src/shared/schemas';

/** The plan schema first (with the default roles), then work, review and final report. */
export const ALL_WIRE_SCHEMAS: readonly { name: string; schema: z.ZodType }[] = [
  { name: SCHEMA_NAMES.plan, schema: planSchemaForRoles(DEFAULT_ROLES.map((r) => r.name)) },
  { name: SCHEMA_NAMES.work, schema: WorkResult },
  { name: SCHEMA_NAMES.review, schema: Review },
  { name: SCHEMA_NAMES.final, schema: FinalReport },
  // Repo runs' plan (issue 20): tickets name the files they change and read.
  {
    name: `${SCHEMA_NAMES.plan} (repo run)`,
    schema: planSchemaForRoles(
      DEFAULT_ROLES.map((r) => r.name),
      { repo: true },
    ),
  },
];
