/**
 * The repository map the Boss plans from (issue 20): the tree with sizes, languages, the README's
 * opening, the detected build and test commands and top-level symbols, never file bodies. It is
 * capped in tokens: folders are shown file by file from the top down while they fit, and every
 * folder that does not fit is one summary line (files, bytes, languages), so a 10,000-file
 * repository's map stays within the cap and grows far slower than the repository. The format is
 * fixed (docs in /work/notes/R20.md); the simulated Boss parses it.
 */
import { countTokens } from '../llm/usage-of';
import { hasSymbols, languageOf, symbolsOf } from './repo-map-symbols';
import { listTree, readBlobs, type GitRunner, type TreeEntry } from './repo-map-git';
import { detectCommands, type DetectedCommands } from './test-command';
import { escapeMapText, layoutTree } from './repo-map-tree';

export { escapeMapText };

/** Default cap of a map, in tokens (cl100k/o200k-style BPE count). */
export const DEFAULT_MAP_TOKENS = 4000;

/** Options of a map. */
export interface RepoMapOptions {
  /** Most tokens of the whole map (default DEFAULT_MAP_TOKENS). */
  maxTokens?: number;
  /** The test command to show instead of the detected one (flag or configuration). */
  testCommand?: string;
}

/** A map and what went into it. */
export interface RepoMap {
  text: string;
  tokens: number;
  files: number;
  /** Commands detected from the files (before any override). */
  detected: DetectedCommands;
}

const README = /^readme(\.(md|markdown|rst|txt))?$/i;
const README_LINES = 15;
const README_CHARS = 1200;
/** Most files whose symbols are read, and the largest file read for them. */
const SYMBOL_FILES = 400;
const SYMBOL_FILE_BYTES = 512 * 1024;
const SECTION_HEADS = new Set(['## README (opening)', '## Tree', '## Symbols']);

/** `Go 30, Python 2` for a language count, most files first, at most `max` named. */
export function languagesText(counts: ReadonlyMap<string, number>, max = 12): string {
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, max).map(([l, n]) => `${l} ${n}`);
  const rest = sorted.slice(max).reduce((s, [, n]) => s + n, 0);
  return [...shown, ...(rest > 0 ? [`other ${rest}`] : [])].join(', ');
}

/** The README's opening lines, bounded, with lines that look like the map's own headings indented. */
function readmeOpening(text: string): string[] {
  const lines = text.slice(0, README_CHARS * 2).split(/\r?\n/);
  const out: string[] = [];
  let chars = 0;
  for (const raw of lines) {
    if (out.length >= README_LINES || chars >= README_CHARS) break;
    if (out.length === 0 && raw.trim() === '') continue;
    // A code block (install steps, examples) ends the opening: the prose before it is what says what the project is.
    if (/^\s*(```|~~~)/.test(raw)) break;
    let line = escapeMapText(raw).slice(0, 200);
    if (SECTION_HEADS.has(line.trim()) || line.startsWith('# Repository map:')) line = ` ${line}`;
    out.push(line);
    chars += line.length + 1;
  }
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out;
}

/** Tokens of one map line (its newline included), memoised per line text. */
function lineCounter(): (line: string) => number {
  const memo = new Map<string, number>();
  return (line) => {
    let n = memo.get(line);
    if (n === undefined) {
      n = countTokens(`${line}\n`);
      memo.set(line, n);
    }
    return n;
  };
}

/** Inputs of `renderRepoMap`, read from git by `buildRepoMap` (or made up by tests). */
export interface RepoMapSource {
  name: string;
  commit: string;
  entries: readonly TreeEntry[];
  readme?: string;
  commands: DetectedCommands;
  /** Reads the contents of these files (for symbols); absent ones are skipped. */
  read: (entries: readonly TreeEntry[]) => Promise<Map<string, string>>;
}

/** Renders the map of `src` within `maxTokens`. */
export async function renderRepoMap(src: RepoMapSource, maxTokens = DEFAULT_MAP_TOKENS): Promise<RepoMap> {
  let cap = maxTokens;
  for (let attempt = 0; ; attempt++) {
    const text = await renderWithin(src, cap);
    const tokens = countTokens(text);
    if (tokens <= maxTokens || attempt >= 4) {
      const files = src.entries.filter((e) => e.kind !== 'submodule').length;
      return { text, tokens, files, detected: src.commands };
    }
    cap -= tokens - maxTokens + 16;
  }
}

async function renderWithin(src: RepoMapSource, cap: number): Promise<string> {
  const tok = lineCounter();
  const files = src.entries.filter((e) => e.kind !== 'submodule');
  const langs = new Map<string, number>();
  for (const f of files) {
    const l = languageOf(f.path);
    if (l) langs.set(l, (langs.get(l) ?? 0) + 1);
  }
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const head = [
    `# Repository map: ${escapeMapText(src.name)} at ${src.commit.slice(0, 12)} (${files.length} files, ${bytes} B)`,
    `Languages: ${languagesText(langs) || 'none detected'}`,
    ...(src.commands.test ? [`Test command: ${escapeMapText(src.commands.test)}`] : []),
    ...(src.commands.build ? [`Build command: ${escapeMapText(src.commands.build)}`] : []),
  ];
  const readme = src.readme !== undefined ? readmeOpening(src.readme) : [];
  if (readme.length > 0) head.push('## README (opening)', ...readme);
  head.push('## Tree');
  const used = head.reduce((s, l) => s + tok(l), 0);
  const symbolsHead = tok('## Symbols');
  const rest = Math.max(0, cap - used - symbolsHead);
  const anySymbols = files.some((f) => f.kind === 'file' && hasSymbols(languageOf(f.path)));
  const layout = layoutTree(files, tok);
  layout.expand(anySymbols ? Math.floor(rest * 0.6) : rest);
  // Symbols of the files shown one by one, in path order, while they fit.
  const shown = layout
    .shownFiles()
    .filter((f) => f.kind === 'file' && f.bytes <= SYMBOL_FILE_BYTES && hasSymbols(languageOf(f.path)))
    .slice(0, SYMBOL_FILES);
  const texts = shown.length > 0 ? await src.read(shown) : new Map<string, string>();
  const symbolLines: string[] = [];
  let budget = rest - layout.used();
  for (const f of shown) {
    const text = texts.get(f.path);
    if (text === undefined) continue;
    const syms = symbolsOf(languageOf(f.path)!, text);
    if (syms.length === 0) continue;
    const line = `- ${escapeMapText(f.path)}: ${syms.join(', ')}`;
    if (tok(line) > budget) continue;
    budget -= tok(line);
    symbolLines.push(line);
  }
  // What the symbols left over goes to the tree.
  layout.expand(budget, true);
  const lines = [...head, ...layout.lines(), ...(symbolLines.length > 0 ? ['## Symbols', ...symbolLines] : [])];
  return `${lines.join('\n')}\n`;
}

/**
 * The map of `commit`, read through `run` (a git runner on the repository; see user-repo.ts).
 * `name` is the repository's name for people.
 */
export async function buildRepoMap(
  run: GitRunner,
  commit: string,
  name: string,
  opts: RepoMapOptions = {},
): Promise<RepoMap> {
  const entries = await listTree(run, commit);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const readText = async (list: readonly TreeEntry[]): Promise<Map<string, string>> => {
    const blobs = await readBlobs(
      run,
      list.filter((e) => e.kind === 'file').map((e) => e.oid),
    );
    const out = new Map<string, string>();
    for (const e of list) {
      const b = blobs.get(e.oid);
      if (b && !b.subarray(0, 8000).includes(0)) out.set(e.path, b.toString('utf8'));
    }
    return out;
  };
  const readOne = async (p: string): Promise<string | undefined> => {
    const e = byPath.get(p);
    if (!e || e.kind !== 'file' || e.bytes > SYMBOL_FILE_BYTES) return undefined;
    return (await readText([e])).get(p);
  };
  const detected = await detectCommands(
    entries.filter((e) => e.kind === 'file').map((e) => e.path),
    readOne,
  );
  const readmeEntry = entries
    .filter((e) => e.kind === 'file' && !e.path.includes('/') && README.test(e.path))
    .sort((a, b) => a.path.length - b.path.length)[0];
  const readme = readmeEntry ? await readOne(readmeEntry.path) : undefined;
  const commands = { ...detected, ...(opts.testCommand ? { test: opts.testCommand } : {}) };
  const map = await renderRepoMap(
    { name, commit, entries, readme, commands, read: readText },
    opts.maxTokens ?? DEFAULT_MAP_TOKENS,
  );
  return { ...map, detected };
}
