/**
 * The `## Tree` part of the repository map within a token budget: folders open from the top down
 * (shallow and small first) while their lines fit; a folder that does not fit stays one summary
 * line with its file count, bytes and languages. Files at the top level that do not fit, and
 * top-level folders when even their summaries do not fit, are counted in one `./` line. So the
 * map of any repository fits its cap, and its size grows with the number of folders shown, not
 * with the number of files.
 */
import { languageOf } from './repo-map-symbols';
import type { TreeEntry } from './repo-map-git';

/** A folder of the tree, with totals over everything below it. */
export interface Folder {
  path: string;
  depth: number;
  files: TreeEntry[];
  children: Folder[];
  totalFiles: number;
  totalBytes: number;
  langs: Map<string, number>;
}

/** The tree part being fitted: open folders while budget lasts, then render. */
export interface Layout {
  /** Opens folders (and shows top-level files) while `budget` more tokens last. */
  expand(budget: number, final?: boolean): void;
  /** Tokens the tree lines take now. */
  used(): number;
  lines(): string[];
  /** Files shown one by one (in path order). */
  shownFiles(): TreeEntry[];
}

/** `\xNN`/`\uNNNN` for characters that would break a map line or hide (controls, bidi, zero-width); `\\` for `\`. */
export function escapeMapText(p: string): string {
  return p.replace(
    /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u061c]/g,
    (c) =>
      c === '\\'
        ? '\\\\'
        : c.charCodeAt(0) < 0x100
          ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function langsOf(counts: ReadonlyMap<string, number>, max = 4): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([l, n]) => `${l} ${n}`)
    .join(', ');
}

/** `- <path> (<bytes> B)`. */
export function fileLine(f: TreeEntry): string {
  return `- ${escapeMapText(f.path)} (${f.bytes} B)`;
}

/** `- <folder>/ (<n> files, <bytes> B; Go 30, Python 2)`. */
export function summaryLine(label: string, files: number, bytes: number, langs: ReadonlyMap<string, number>): string {
  const l = langsOf(langs);
  return `- ${escapeMapText(label)}/ (${files} files, ${bytes} B${l ? `; ${l}` : ''})`;
}

function buildFolders(files: readonly TreeEntry[]): Folder {
  const root: Folder = { path: '', depth: 0, files: [], children: [], totalFiles: 0, totalBytes: 0, langs: new Map() };
  const index = new Map<string, Folder>([['', root]]);
  const folderOf = (dir: string): Folder => {
    let f = index.get(dir);
    if (f) return f;
    const cut = dir.lastIndexOf('/');
    const parent = folderOf(cut < 0 ? '' : dir.slice(0, cut));
    f = { path: dir, depth: parent.depth + 1, files: [], children: [], totalFiles: 0, totalBytes: 0, langs: new Map() };
    parent.children.push(f);
    index.set(dir, f);
    return f;
  };
  for (const e of files) {
    const cut = e.path.lastIndexOf('/');
    const dir = cut < 0 ? '' : e.path.slice(0, cut);
    folderOf(dir).files.push(e);
    const lang = languageOf(e.path);
    for (let d: string | undefined = dir; d !== undefined;) {
      const f = index.get(d)!;
      f.totalFiles++;
      f.totalBytes += e.bytes;
      if (lang) f.langs.set(lang, (f.langs.get(lang) ?? 0) + 1);
      d = d === '' ? undefined : d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    }
  }
  for (const f of index.values()) {
    f.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    f.children.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return root;
}

/** A layout of `files` whose line costs come from `tok`; everything starts folded. */
export function layoutTree(files: readonly TreeEntry[], tok: (line: string) => number): Layout {
  const root = buildFolders(files);
  const open = new Set<Folder>([root]);
  const hiddenTop = new Set<Folder>();
  let rootShown = 0;
  const sumCost = (f: Folder) => tok(summaryLine(f.path, f.totalFiles, f.totalBytes, f.langs));
  const overflow = (): string | undefined => {
    const hiddenFiles = root.files.slice(rootShown);
    if (hiddenFiles.length === 0 && hiddenTop.size === 0) return undefined;
    const langs = new Map<string, number>();
    let n = hiddenFiles.length;
    let bytes = hiddenFiles.reduce((s, f) => s + f.bytes, 0);
    for (const f of hiddenFiles) {
      const l = languageOf(f.path);
      if (l) langs.set(l, (langs.get(l) ?? 0) + 1);
    }
    for (const h of hiddenTop) {
      n += h.totalFiles;
      bytes += h.totalBytes;
      for (const [l, c] of h.langs) langs.set(l, (langs.get(l) ?? 0) + c);
    }
    return summaryLine('.', n, bytes, langs);
  };
  const overflowCost = () => {
    const o = overflow();
    return o === undefined ? 0 : tok(o);
  };
  let used = root.children.reduce((s, c) => s + sumCost(c), 0) + overflowCost();
  let started = false;
  const candidates: Folder[] = [];
  const openCost = (f: Folder) =>
    f.files.reduce((s, e) => s + tok(fileLine(e)), 0) + f.children.reduce((s, c) => s + sumCost(c), 0) - sumCost(f);

  const expand = (budget: number, final = false): void => {
    let room = budget - (started ? 0 : used);
    if (!started) {
      started = true;
      // Even the top-level summaries do not fit: fold the biggest into the `./` line.
      const tops = [...root.children].sort((a, b) => b.totalFiles - a.totalFiles);
      while (room < 0 && tops.length > 0) {
        const before = used;
        hiddenTop.add(tops.shift()!);
        used = [...root.children].filter((c) => !hiddenTop.has(c)).reduce((s, c) => s + sumCost(c), 0) + overflowCost();
        room += before - used;
      }
      candidates.push(...root.children.filter((c) => !hiddenTop.has(c)));
    }
    // Top-level files first, when all of them fit.
    if (rootShown < root.files.length && hiddenTop.size === 0) {
      const before = overflowCost();
      const all = root.files.slice(rootShown).reduce((s, e) => s + tok(fileLine(e)), 0);
      if (all - before <= room) {
        rootShown = root.files.length;
        used += all - before;
        room -= all - before;
      }
    }
    for (;;) {
      if (candidates.length === 0) break;
      const next: Folder[] = [];
      // Try candidates in priority order; the ones that do not fit wait for a later budget.
      const ordered = [...candidates].sort(
        (a, b) => a.depth - b.depth || a.files.length + a.children.length - (b.files.length + b.children.length),
      );
      let opened = false;
      for (const c of ordered) {
        const cost = openCost(c);
        if (!opened && cost <= room) {
          open.add(c);
          used += cost;
          room -= cost;
          next.push(...c.children);
          opened = true;
        } else next.push(c);
      }
      candidates.splice(0, candidates.length, ...next);
      if (!opened) break;
    }
    // Last call: as many top-level files as still fit, the rest stay in the `./` line.
    if (final && hiddenTop.size === 0) {
      while (rootShown < root.files.length) {
        const before = overflowCost();
        const line = tok(fileLine(root.files[rootShown]!));
        rootShown++;
        const delta = line + overflowCost() - before;
        if (delta > room) {
          rootShown--;
          break;
        }
        used += delta;
        room -= delta;
      }
    }
  };

  const walk = (f: Folder, out: string[], files: TreeEntry[]): void => {
    const own = f === root ? f.files.slice(0, rootShown) : f.files;
    const kids = f === root ? f.children.filter((c) => !hiddenTop.has(c)) : f.children;
    const items: { key: string; file?: TreeEntry; folder?: Folder }[] = [
      ...own.map((e) => ({ key: e.path, file: e })),
      ...kids.map((c) => ({ key: `${c.path}/`, folder: c })),
    ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const it of items) {
      if (it.file) {
        out.push(fileLine(it.file));
        files.push(it.file);
      } else if (it.folder && open.has(it.folder)) walk(it.folder, out, files);
      else if (it.folder)
        out.push(summaryLine(it.folder.path, it.folder.totalFiles, it.folder.totalBytes, it.folder.langs));
    }
  };
  const render = () => {
    const out: string[] = [];
    const shown: TreeEntry[] = [];
    walk(root, out, shown);
    const o = overflow();
    if (o) out.push(o);
    return { out, shown };
  };
  return {
    expand,
    used: () => used,
    lines: () => render().out,
    shownFiles: () => render().shown,
  };
}
