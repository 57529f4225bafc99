/**
 * Run ids name workflows and become folder names (`.maestro/output/<runId>`) and child ids
 * (`<runId>/T1`), so only a safe set is accepted: it can never climb out of a folder, hide as a
 * dot file, or carry control characters into a terminal.
 */
import { z } from 'zod';

/** Longest accepted run id. */
export const MAX_RUN_ID_CHARS = 100;

/** A run id: a letter or digit first, then letters, digits, `.`, `_` or `-`. */
export const RunId = z
  .string()
  .min(1, 'the run id is empty')
  .max(MAX_RUN_ID_CHARS, `the run id is longer than ${MAX_RUN_ID_CHARS} characters`)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'a run id starts with a letter or digit and has only letters, digits, ".", "_" and "-" (no "/", spaces or control characters)',
  )
  .refine((id) => !id.includes('..'), 'a run id must not contain ".."');
export type RunId = z.infer<typeof RunId>;

/** The reason `id` is not a valid run id, or undefined when it is one. */
export function runIdProblem(id: string): string | undefined {
  const parsed = RunId.safeParse(id);
  return parsed.success ? undefined : parsed.error.issues[0]?.message;
}
