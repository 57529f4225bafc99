/**
 * The simulated Boss's reading of a repository map (the format `maestro run --repo` builds
 * client-side and shows in the plan prompt; see /work/notes R20 and src/activities/repo/repo-map.ts):
 * the name, the detected test command, the files listed one per line under `## Tree`, and the
 * symbols per file. Summarised folders (`- dir/ (n files, ...)`) are not files: they are skipped,
 * so a plan only ever names files the map shows.
 */

/** A file the map lists. */
export interface MapFile {
  path: string;
  bytes: number;
}

/** What the simulated Boss takes from a repository map. */
export interface RepoMapInfo {
  name: string;
  testCommand?: string;
  files: MapFile[];
  /** Symbols per file (`## Symbols`), e.g. `func A`. */
  symbols: Map<string, string[]>;
}

const HEAD_RE = /^# Repository map: (.+?) at [0-9a-f]{4,40}\b/m;

/** Whether a prompt holds a repository map. */
export function hasRepoMap(text: string): boolean {
  return HEAD_RE.test(text);
}

/** The lines of the `## <name>` section that follows the map's head (up to the next `#`/`##` heading). */
function section(map: string, name: string): string[] {
  const lines = map.split('\n');
  const at = lines.findIndex((l) => l.trim() === `## ${name}`);
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (/^#{1,2} /.test(l)) break;
    out.push(l);
  }
  return out;
}

/** Reads the repository map of a prompt; undefined when there is none. */
export function parseRepoMap(text: string): RepoMapInfo | undefined {
  const head = HEAD_RE.exec(text);
  if (!head?.[1]) return undefined;
  const map = text.slice(head.index);
  const test = /^Test command: (.+)$/m.exec(map)?.[1]?.trim();
  const files: MapFile[] = [];
  for (const line of section(map, 'Tree')) {
    const m = /^\s*- (.+?) \((\d+) B\)\s*$/.exec(line);
    if (!m?.[1] || m[1].endsWith('/')) continue;
    files.push({ path: m[1], bytes: Number(m[2]) });
  }
  const symbols = new Map<string, string[]>();
  for (const line of section(map, 'Symbols')) {
    const m = /^\s*- (.+?): (.+)$/.exec(line);
    if (m?.[1] && m[2])
      symbols.set(
        m[1],
        m[2]
          .split(', ')
          .map((s) => s.trim())
          .filter(Boolean),
      );
  }
  return { name: head[1].trim(), ...(test ? { testCommand: test } : {}), files, symbols };
}
