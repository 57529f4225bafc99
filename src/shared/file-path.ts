/**
 * The rule for paths of files a model produces, in one place: the schema the model answers
 * (so a bad path is refused at the answer and the repair call can fix it), the simulated LLM,
 * and the assembly of the output folder all use it.
 */

/** Longest accepted produced-file path. */
export const MAX_FILE_PATH_CHARS = 200;

/**
 * Relative paths of segments joined by single `/`; a segment starts with a letter, digit, `_`
 * or `-` (no hidden files or folders such as `.git/` or `.github/`, no `.` or `..`), then letters,
 * digits, `.`, `_`, `-`. No leading, trailing or doubled `/`.
 */
export const FILE_PATH_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$';

/** What the schema says when a path breaks the rule (the model reads it in the repair call). */
export const FILE_PATH_RULE =
  'a relative path like "css/site.css": segments of letters, digits, . _ - joined by single "/", no segment starting with "." (no hidden files, no ".."), no leading or trailing "/"';

const FILE_PATH_RE = new RegExp(FILE_PATH_PATTERN);

/** Why `p` is not an acceptable produced-file path, or undefined when it is. */
export function filePathProblem(p: string): string | undefined {
  if (p.length === 0) return 'the path is empty';
  if (p.length > MAX_FILE_PATH_CHARS) return `the path is longer than ${MAX_FILE_PATH_CHARS} characters`;
  if (!FILE_PATH_RE.test(p)) return `"${p}" is not ${FILE_PATH_RULE}`;
  return undefined;
}

/**
 * Paths that cannot all be written into one folder: a path that is also a folder of another
 * (`a` and `a/b`), or the same path twice. Empty when they fit together.
 */
export function filePathClashes(paths: readonly string[]): string[] {
  const seen = new Set<string>();
  const folders = new Set<string>();
  const out: string[] = [];
  for (const p of paths) {
    if (seen.has(p)) out.push(`"${p}" is given twice`);
    seen.add(p);
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  for (const p of seen) if (folders.has(p)) out.push(`"${p}" is a file and also a folder of another path`);
  return out;
}
