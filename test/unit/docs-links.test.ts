/**
 * Every relative link in README.md and docs/**\/*.md leads to a file, and a `#anchor` into a
 * markdown file to one of its headings. VitePress checks the site's own links when it builds;
 * README.md is outside its source folder, and this also covers the sidebar (sidebar.json).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const DOCS = path.join(ROOT, 'docs');
const SKIP_DIRS = new Set(['.vitepress', 'public', 'node_modules']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return SKIP_DIRS.has(name) ? [] : markdownFiles(full);
    return name.endsWith('.md') ? [full] : [];
  });
}

/** The text without fenced code blocks and inline code (links there are not links). */
function withoutCode(text: string): string {
  return withoutFences(text).replace(/`[^`\n]*`/g, '');
}

function withoutFences(text: string): string {
  return text.replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm, '');
}

/** Anchors of a markdown file's headings, as GitHub (README) and VitePress (docs) make them. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    let title = m[1]!;
    const explicit = /\{#([^}]+)\}\s*$/.exec(title);
    if (explicit) {
      anchors.add(explicit[1]!);
      title = title.slice(0, explicit.index).trim();
    }
    const plain = title
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`/g, '');
    const github = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(github) ?? 0;
    seen.set(github, n + 1);
    anchors.add(n === 0 ? github : `${github}-${n}`);
    anchors.add(
      plain
        .normalize('NFKD')
        .replace(/[\u0300-\u036F]/g, '')
        .replace(/[\s~`!@#$%^&*()\-_+=[\]{}|\\;:"'“”‘’<>,.?/]+/g, '-')
        .replace(/-{2,}/g, '-')
        .replace(/^-+|-+$/g, '')
        .replace(/^(\d)/, '_$1')
        .toLowerCase(),
    );
  }
  return anchors;
}

/** The file a link leads to: docs links may leave out `.md` (clean URLs) or point at a folder. */
function resolveTarget(from: string, target: string): string | undefined {
  const base = target.startsWith('/') ? path.join(DOCS, target) : path.resolve(path.dirname(from), target);
  const candidates = [base, `${base}.md`, path.join(base, 'index.md'), path.join(DOCS, 'public', target)];
  return candidates.find((c) => existsSync(c) && (statSync(c).isFile() || existsSync(path.join(c, 'index.md'))));
}

const ignored = new Map<string, boolean>();

/** Whether git ignores `file` (dist/, node_modules/, .maestro/ ...): it exists here, but not on GitHub or the site. */
function gitIgnores(file: string): boolean {
  let known = ignored.get(file);
  if (known === undefined) {
    const r = spawnSync('git', ['check-ignore', '-q', '--', path.relative(ROOT, file)], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    // 0: ignored; 1: not; 128 with "beyond a symbolic link": inside node_modules (a symlink in worktrees).
    known = r.status === 0 || (r.status === 128 && /symbolic link/.test(r.stderr));
    ignored.set(file, known);
  }
  return known;
}

/** Problems of one markdown file's relative links. */
function brokenLinks(file: string): string[] {
  const text = withoutCode(readFileSync(file, 'utf8'));
  const links = [
    // Inline links, with a <target> and a "title", 'title' or (title) as CommonMark allows.
    ...[...text.matchAll(/!?\[[^\]]*\]\(\s*(?:<([^>\n]*)>|([^)\s]+))(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)].map(
      (m) => (m[1] ?? m[2])!,
    ),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!),
    // Any tag's href= or src=, in any case, quoted either way or not at all.
    ...[...text.matchAll(/<[a-z][a-z0-9]*\s[^>]*?\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>'"]+))/gi)].map(
      (m) => (m[1] ?? m[2] ?? m[3])!,
    ),
  ];
  const problems: string[] = [];
  for (const link of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:, pathname:
    const [target = '', anchor] = link.split('#');
    // TypeDoc's HTML (npm run docs:api) is checked by the VitePress build, which fails on a dead /api/ link.
    if (/^(\.\.\/)*\/?api(\/|$)/.test(target) && path.dirname(file).startsWith(DOCS)) continue;
    const dest = target === '' ? file : resolveTarget(file, decodeURIComponent(target));
    const where = `${path.relative(ROOT, file)}: ${link}`;
    if (!dest) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (path.relative(ROOT, dest).startsWith('..')) {
      problems.push(`${where} (leaves the repository)`);
      continue;
    }
    if (target !== '' && gitIgnores(dest)) {
      problems.push(`${where} (not in the repository: git ignores it)`);
      continue;
    }
    const md = statSync(dest).isDirectory() ? path.join(dest, 'index.md') : dest;
    if (anchor && md.endsWith('.md') && !anchorsOf(md).has(decodeURIComponent(anchor)))
      problems.push(`${where} (no heading #${anchor} in ${path.relative(ROOT, md)})`);
  }
  return problems;
}

describe('docs links', () => {
  const files = [path.join(ROOT, 'README.md'), ...(existsSync(DOCS) ? markdownFiles(DOCS) : [])];

  it.each(files.map((f) => path.relative(ROOT, f)))('%s: every relative link resolves', (rel) => {
    expect(brokenLinks(path.join(ROOT, rel))).toEqual([]);
  });

  it('every sidebar entry of the site is a page', () => {
    const sidebar = JSON.parse(readFileSync(path.join(DOCS, '.vitepress', 'sidebar.json'), 'utf8')) as {
      items: { link: string }[];
    }[];
    const links = sidebar.flatMap((g) => g.items.map((i) => i.link)).filter((l) => !l.startsWith('/api/'));
    expect(links.length).toBeGreaterThan(20);
    const missing = links.filter((l) => !resolveTarget(path.join(DOCS, 'index.md'), l === '/' ? '/index' : l));
    expect(missing).toEqual([]);
  });

  it('finds a broken link and a broken anchor', () => {
    const file = path.join(DOCS, 'reference', 'cli.md');
    expect(resolveTarget(file, './no-such-page')).toBeUndefined();
    expect(resolveTarget(file, '../reference/environment')).toBe(path.join(DOCS, 'reference', 'environment.md'));
    expect(anchorsOf(file).has('maestro-run')).toBe(true);
    expect(anchorsOf(file).has('maestro-nope')).toBe(false);
    expect(resolveTarget(path.join(ROOT, 'README.md'), '../../../../../../etc/hostname')).toBeDefined();
  });

  it('is not fooled by a quoted title, an HTML tag other than <a href="">, or a file git ignores', () => {
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'docs-links-'));
    try {
      const page = path.join(dir, 'page.md');
      writeFileSync(
        page,
        [
          "# T\n\n[a](./dead-a.md 'a title') [b](<./dead b.md> (title))",
          '<a href=\'./dead-c.md\'>c</a> <A HREF="./dead-d.md">d</A> <img src="./dead-e.png">',
          '[f](../../dist/index.js) [g](../../node_modules/jest/package.json)\n',
        ].join('\n'),
      );
      expect(brokenLinks(page).map((p) => p.replace(/^.*?: /, ''))).toEqual([
        './dead-a.md (no such file)',
        './dead b.md (no such file)',
        '../../dist/index.js (not in the repository: git ignores it)',
        '../../node_modules/jest/package.json (not in the repository: git ignores it)',
        './dead-c.md (no such file)',
        './dead-d.md (no such file)',
        './dead-e.png (no such file)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a link out of the repository, to a missing file or to a missing heading', () => {
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'docs-links-'));
    try {
      const page = path.join(dir, 'page.md');
      writeFileSync(page, '# Title\n\n[a](../../../../../../../etc/hostname) [b](./nope.md) [c](#title) [d](#nope)\n');
      expect(brokenLinks(page).map((p) => p.replace(/^.*?: /, ''))).toEqual([
        '../../../../../../../etc/hostname (leaves the repository)',
        './nope.md (no such file)',
        '#nope (no heading #nope in ' + path.relative(ROOT, page) + ')',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
