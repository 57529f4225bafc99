/**
 * Repository paths named by plans and written by tickets in repo runs (issue 20): the checks that
 * keep them inside the repository and out of `.git`, and the overlap test the scheduler uses to
 * keep parallel tickets on disjoint files. Pure, so workflows and activities share them.
 */
import type { RepoInput, RepoSnapshot } from './repo';
import type { Plan } from './schemas';

/**
 * Why a repository path cannot be used (undefined: it can): it must be relative, normalised
 * (no empty, `.` or `..` part) and stay out of any `.git` folder, whose hooks and config run code.
 */
export function unsafeRepoPath(path: string): string | undefined {
  if (path === '' || path.length > 4096) return 'is empty or too long';
  if (path.includes('\0') || path.includes('\\')) return 'contains a NUL byte or a backslash';
  // A line break would let the path pose as a section of the prompts that show it (`### <path>`).
  if (/[\u0001-\u001f\u007f]/.test(path)) return 'contains a control character (a line break, tab or escape)';
  if (path.startsWith('/')) return 'is absolute';
  const parts = path.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'has an empty, `.` or `..` part';
  if (parts.some(isDotGit)) return 'is inside a `.git` folder';
  return undefined;
}

/**
 * Whether a path part names git's folder on some file system: any case, trailing dots or spaces
 * (Windows), code points macOS ignores (`.g\u200cit`), or the 8.3 short name `git~1`.
 */
function isDotGit(part: string): boolean {
  const p = part.replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '').toLowerCase();
  return p.replace(/[. ]+$/, '') === '.git' || p === 'git~1';
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

const COMMIT = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Why a run's `repo` input cannot be a repository the client packed (undefined: it can be): checked
 * by the run before it plans, so a forged run input (sent straight to Temporal) fails at once with
 * what is wrong instead of after its tickets were paid for.
 */
export function repoInputProblem(repo: unknown): string | undefined {
  const r = repo as Partial<RepoInput> | null;
  if (typeof r !== 'object' || r === null) return 'repo must be an object';
  const s = r.snapshot as Partial<RepoSnapshot> | undefined;
  if (typeof s !== 'object' || s === null) return 'repo.snapshot is missing';
  if (typeof s.base !== 'string' || !COMMIT.test(s.base))
    return 'repo.snapshot.base is not a commit id (40 hex digits)';
  if (s.head !== s.base) return 'repo.snapshot.head must be its base: a run starts on the packed base commit';
  if (s.series !== undefined)
    return 'repo.snapshot must not carry a series bundle: a run starts on the packed base commit';
  if (typeof s.bundle !== 'object' || s.bundle === null || !SHA256.test(String(s.bundle.sha256)))
    return 'repo.snapshot.bundle is not an artifact reference (sha256 of 64 hex digits)';
  if (typeof r.branch !== 'string' || !refSafeBranch(r.branch))
    return 'repo.branch must be maestro/<name> with a name git accepts for a branch (no spaces, "..", "~^:?*[\\", nor a trailing "/", "." or ".lock")';
  if (typeof r.map !== 'string' || r.map.length > 200_000) return 'repo.map must be text of at most 200,000 characters';
  if (
    r.testCommand !== undefined &&
    (typeof r.testCommand !== 'string' || r.testCommand.length > 2000 || r.testCommand.includes('\n'))
  )
    return 'repo.testCommand must be one line of at most 2,000 characters';
  if (typeof r.name !== 'string' || r.name.length > 200) return 'repo.name must be a short text';
  return undefined;
}

/** Whether `maestro/<name>` is a branch name `git check-ref-format` accepts (checked without git). */
function refSafeBranch(branch: string): boolean {
  if (!branch.startsWith('maestro/') || branch.length > 250) return false;
  const name = branch.slice('maestro/'.length);
  if (name === '' || /[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@') return false;
  if (/(^|\/)\./.test(name) || /[/.]$/.test(name) || /\.lock($|\/)/.test(name)) return false;
  return true;
}
