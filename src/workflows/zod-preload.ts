/**
 * Loaded once per workflow thread, before any workflow exists (the bundler's `preloadModules`),
 * so the zod library is shared by every workflow instead of being evaluated again for each one:
 * the reusable V8 context evaluates a workflow's whole module graph when the workflow starts,
 * and zod's own module setup took about 5 ms of the single workflow thread per ticket child.
 *
 * The shared copy is frozen after preloading, and zod writes its default locale and memoizer
 * into its global config on the first schema it builds, so one schema is built here, while
 * that config can still be written. Nothing per-workflow lives in zod's module state: schemas
 * and their caches are created by each workflow's own modules.
 */
import { z } from 'zod';

/** Built only for its side effect on zod's config (see above). */
export const PRELOADED = z.object({ list: z.array(z.string()) });
