/**
 * Repository paths named by plans and written by tickets in repo runs (issue 20): the checks that
 * keep them inside the repository and out of `.git`, and the overlap test the scheduler uses to
 * keep parallel tickets on disjoint files. Pure, so workflows and activities share them.
 */
import type { Plan } from './schemas';

/**
 * Why a repository path cannot be used (undefined: it can): it must be relative, normalised
 * (no empty, `.` or `..` part) and stay out of any `.git` folder, whose hooks and config run code.
 */
export function unsafeRepoPath(path: string): string | undefined {
  if (path === '' || path.length > 4096) return 'is empty or too long';
  if (path.includes('\0') || path.includes('\\')) return 'contains a NUL byte or a backslash';
  if (path.startsWith('/')) return 'is absolute';
  const parts = path.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'has an empty, `.` or `..` part';
  if (parts.some((p) => p.toLowerCase() === '.git')) return 'is inside a `.git` folder';
  return undefined;
}

/**
 * Every repository path of a plan that escapes the repository, in words the Boss can act on when
 * re-planning (empty: none).
 */
export function repoPlanProblems(plan: Pick<Plan, 'tickets'>): string[] {
  const problems: string[] = [];
  for (const t of plan.tickets) {
    for (const [field, paths] of [
      ['changes', t.changes],
      ['reads', t.reads],
    ] as const) {
      for (const p of paths ?? []) {
        const why = unsafeRepoPath(p);
        if (why)
          problems.push(
            `ticket ${t.id} lists ${JSON.stringify(p.slice(0, 120))} in \`${field}\`, which ${why}: name files by their path relative to the repository root, outside .git`,
          );
      }
    }
  }
  return problems;
}

/** Whether two path lists share a file (a folder `src/` or `src` overlaps every path under it). */
export function pathsOverlap(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length === 0 || b.length === 0) return false;
  const norm = (p: string) => p.replace(/\/+$/, '');
  for (const x of a.map(norm))
    for (const y of b.map(norm)) if (x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`)) return true;
  return false;
}
